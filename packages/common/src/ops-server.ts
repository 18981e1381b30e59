import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface OpsChecks {
  /** Resolves to null when ready, or a reason when not. */
  ready: () => Promise<string | null> | string | null;
}

/** /healthz, /readyz and /metrics as a fastify plugin, for services with and without their own HTTP API. */
export function registerOpsRoutes(app: FastifyInstance, registry: Registry, checks: OpsChecks): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const reason = await checks.ready();
    if (reason) return reply.code(503).send({ status: 'not ready', reason });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}

/** A small HTTP server with only the ops routes, for the router and the sinks. */
export async function startOpsServer(
  port: number,
  registry: Registry,
  checks: OpsChecks,
  host = '127.0.0.1',
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  registerOpsRoutes(app, registry, checks);
  const url = await app.listen({ port, host });
  return { app, url };
}
