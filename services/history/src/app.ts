/** The history HTTP app as a value, so tests can `inject` without a port and index.ts decides where it listens. */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { INSTANT_FORMAT } from './api/instant';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { isInfrastructureError, registerOpsRoutes, type OpsChecks, type Registry } from '@alertbus/common';
import type { EventProducer } from '@alertbus/kafka';
import { registerAuth, type AuthOptions } from './api/auth';
import { registerDocs } from './api/docs';
import { incidentsRoutes } from './api/incidents-routes';
import { notificationsRoutes } from './api/notifications-routes';
import { silencesRoutes } from './api/silences-routes';
import { statsRoutes } from './api/stats-routes';
import { suppressedRoutes } from './api/suppressed-routes';
import { timelineRoutes } from './api/timeline-routes';
import { uiRoutes } from './api/ui-routes';
import { DEFAULT_SILENCE_MAX_DURATION_MS } from './config';

export interface AppDeps {
  pool: Pool;
  registry: Registry;
  ready: OpsChecks['ready'];
  log?: Logger;
  /** Writes silence events; without it the silence routes that write answer 503. */
  producer?: EventProducer;
  /** The API's clock (default stats window, silence states); the projection never reads one. */
  now?: () => Date;
  /** Tokens, and whether reads are open (history listens on loopback only). */
  auth: AuthOptions;
  /** SILENCE_MAX_DURATION; default 30 days. */
  silenceMaxDurationMs?: number;
  /** HISTORY_KAFKA_TIMEOUT_MS. */
  kafkaTimeoutMs?: number;
}

/** Retry-After of a 503 while Postgres or Kafka does not answer. */
const UNAVAILABLE_RETRY_AFTER_S = 5;

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const quiet = (url: string) => OPS_PATHS.has(url.split('?')[0]!) || url.startsWith('/docs/static') || url.startsWith('/ui/');

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
  if (issue.keyword === 'format' && issue.params?.format === 'date-time') {
    return `invalid ${where} "${name}": must be a date-time with its offset, as 2025-03-01T10:00:00Z or 2025-03-01T11:00:00+01:00 (years 0001–9999)`;
  }
  return `invalid ${where} "${name}": ${issue.message ?? 'invalid'}${allowed}`;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger | undefined,
    // Request logs for the API, not for the probes and scrapes that hit the ops routes every few seconds.
    logController: new LogController({ disableRequestLogging: (req) => quiet(req.url) }),
    // Unknown query parameters are refused rather than dropped: a typo must not widen a filter silently.
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false },
      // Only date-times the routes can use: a value the schema passed then failing in Date or Postgres was a 500.
      onCreate: (ajv) => ajv.addFormat('date-time', INSTANT_FORMAT),
    },
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation && err.validation.length > 0) {
      const message = describeValidation(err.validation[0] as AjvIssue, err.validationContext);
      return reply.code(400).send({ error: 'bad_request', message });
    }
    // Postgres refused a value of the request itself (a NUL byte, a time it cannot hold): the request's fault, not the service's.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) {
      return reply.code(400).send({ error: 'bad_request', message: `a value in the request cannot be used: ${err.message}` });
    }
    if ((code === '57014' && /statement timeout/.test(err.message)) || /^Query read timeout$/.test(err.message)) {
      // The server cancelled the query at PG_STATEMENT_TIMEOUT_MS (or the client gave up a little after it): Postgres
      // answers, the question was too wide. Saying "not answering" sent people to check a healthy database.
      req.log.warn({ err }, 'request failed: the query ran longer than PG_STATEMENT_TIMEOUT_MS');
      return reply.code(503).send({
        error: 'query_timeout',
        message:
          'the query ran longer than the statement timeout (PG_STATEMENT_TIMEOUT_MS) and was stopped; nothing was written: ' +
          'narrow it (a shorter from/to range, a filter) or try again when the history is less busy',
      });
    }
    if (isInfrastructureError(err)) {
      // Postgres or Kafka not answering is not the request's fault: a client tries again later (a silence was not written).
      req.log.warn({ err }, 'request failed: Postgres or Kafka is not answering');
      return reply
        .code(503)
        .header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S))
        .send({ error: 'unavailable', message: 'Postgres or Kafka is not answering; nothing was written, try again' });
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

  const now = deps.now ?? (() => new Date());
  // First: its onRoute hook gives every route declared after it an access rule (writes need operator by default).
  registerAuth(app, deps.auth);
  registerDocs(app);
  registerOpsRoutes(app, deps.registry, { ready: deps.ready });
  void app.register(incidentsRoutes(deps.pool));
  void app.register(timelineRoutes(deps.pool));
  void app.register(notificationsRoutes(deps.pool));
  void app.register(statsRoutes(deps.pool, now));
  void app.register(suppressedRoutes(deps.pool, now));
  void app.register(
    silencesRoutes({
      pool: deps.pool,
      producer: deps.producer,
      now,
      maxDurationMs: deps.silenceMaxDurationMs ?? DEFAULT_SILENCE_MAX_DURATION_MS,
      ...(deps.kafkaTimeoutMs !== undefined ? { kafkaTimeoutMs: deps.kafkaTimeoutMs } : {}),
    }),
  );
  void app.register(uiRoutes());
  return app;
}
