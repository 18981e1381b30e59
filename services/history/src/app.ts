/** The history HTTP app as a value, so tests can `inject` without a port and index.ts decides where it listens. */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { registerOpsRoutes, type OpsChecks, type Registry } from '@alertbus/common';
import { incidentsRoutes } from './api/incidents-routes';

export interface AppDeps {
  pool: Pool;
  registry: Registry;
  ready: OpsChecks['ready'];
  log?: Logger;
}

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** "limit: must be <= 500", naming the parameter the way the caller wrote it. */
export function describeValidation(issue: AjvIssue, context: string | undefined): string {
  const where = context === 'params' ? 'path parameter' : context === 'querystring' ? 'query parameter' : (context ?? 'request');
  if (issue.keyword === 'additionalProperties') {
    return `unknown ${where} "${String(issue.params?.additionalProperty)}"`;
  }
  const name = (issue.instancePath ?? '').replace(/^\//, '') || String(issue.params?.missingProperty ?? '');
  const allowed = Array.isArray(issue.params?.allowedValues) ? ` (${issue.params.allowedValues.join(', ')})` : '';
  return `invalid ${where} "${name}": ${issue.message ?? 'invalid'}${allowed}`;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger | undefined,
    // Request logs for the API, not for the probes and scrapes that hit the ops routes every few seconds.
    logController: new LogController({ disableRequestLogging: (req) => OPS_PATHS.has(req.url.split('?')[0]!) }),
    // Unknown query parameters are refused rather than dropped: a typo must not widen a filter silently.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation && err.validation.length > 0) {
      const message = describeValidation(err.validation[0] as AjvIssue, err.validationContext);
      return reply.code(400).send({ error: 'bad_request', message });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    return reply
      .code(status)
      .send({ error: status === 500 ? 'internal' : 'bad_request', message: status === 500 ? 'internal error' : err.message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  registerOpsRoutes(app, deps.registry, { ready: deps.ready });
  void app.register(incidentsRoutes(deps.pool));
  return app;
}
