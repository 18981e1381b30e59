import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface OpsChecks {
  /** Resolves to null when ready, or a reason when not. */
  ready: () => Promise<string | null> | string | null;
}

/**
 * The header /healthz and /readyz carry with the answering process's id: whoever started the process can tell its
 * answer from another process's that holds the port it was given (see the launcher's httpReady).
 */
export const PID_HEADER = 'x-alertbus-pid';

/** /healthz, /readyz and /metrics as a fastify plugin, for services with and without their own HTTP API. */
export function registerOpsRoutes(app: FastifyInstance, registry: Registry, checks: OpsChecks): void {
  app.get('/healthz', async (_req, reply) => {
    reply.header(PID_HEADER, String(process.pid));
    return { status: 'ok' };
  });
  app.get('/readyz', async (_req, reply) => {
    reply.header(PID_HEADER, String(process.pid));
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
