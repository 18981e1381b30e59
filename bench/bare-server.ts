/** The baseline: a bare fastify handler that parses the same webhook body and answers 202, writing nothing. */
import Fastify from 'fastify';

async function main() {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.post('/webhooks/alertmanager', async (req, reply) => {
    const body = req.body as { alerts?: unknown[] };
    return reply.code(202).send({ accepted: body.alerts?.length ?? 0 });
  });
  const port = Number(process.env.PORT ?? 0);
  await app.listen({ port, host: '127.0.0.1' });
  process.stdout.write(`listening ${(app.server.address() as { port: number }).port}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}
void main();
