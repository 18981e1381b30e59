import type { IncomingMessage } from 'node:http';
import type { FastifyError, FastifyInstance, FastifySchemaValidationError } from 'fastify';
import { HttpError, type ErrorKind } from '../http-error';
import type { ErrorBody } from '../responses';

function describeOne(e: FastifySchemaValidationError, dataVar: string): string {
  const where = `${dataVar}${e.instancePath}`;
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return `${where} must be equal to one of the allowed values: ${params.allowedValues.join(', ')}`;
  }
  if (e.keyword === 'additionalProperties') {
    return `${where} must NOT have additional property "${String(params.additionalProperty)}"`;
  }
  return `${where} ${e.message ?? 'is invalid'}`;
}

/** Validation messages that name the field (`body/alerts/0/status must be ...`), without ajv's `if` noise. */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const useful = errors.filter((e) => e.keyword !== 'if');
  const message = (useful.length > 0 ? useful : errors).map((e) => describeOne(e, dataVar)).join('; ');
  return new Error(message || `${dataVar} is invalid`);
}

/** Whether the request went to an alert webhook, whose sender can bound its groups (Slack's cannot). */
const isWebhook = (url: string | undefined) => url !== undefined && url.startsWith('/webhooks/');

/**
 * What a sender refused for a group's size does about it. Alertmanager never sends a group again after a 4xx, so
 * without this every alert of the group is lost; with `max_alerts` it sends the first N and counts the others in
 * `truncatedAlerts` (logged and counted by ingest).
 */
export const BOUND_THE_GROUP =
  "set the Alertmanager receiver's max_alerts (webhook_configs) so a group fits: it then sends the group's first " +
  'max_alerts alerts and counts the rest in truncatedAlerts, instead of the whole group being refused';

function classify(err: FastifyError, bodyLimit: number, url?: string): { status: number; kind: ErrorKind; message: string } {
  if (err instanceof HttpError) return { status: err.statusCode, kind: err.kind, message: err.message };
  if (err.validation) return { status: 400, kind: 'invalid_payload', message: err.message };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        kind: 'payload_too_large',
        message:
          `request body is larger than the limit of ${bodyLimit} bytes (INGEST_BODY_LIMIT)` +
          (isWebhook(url) ? `: ${BOUND_THE_GROUP}, or raise INGEST_BODY_LIMIT` : ''),
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, kind: 'unsupported_media_type', message: err.message };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, kind: 'invalid_json', message: `invalid JSON body: ${err.message}` };
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, kind: 'bad_request', message: err.message };
  return { status: 500, kind: 'internal', message: 'internal error' };
}

/**
 * Reads and discards what is left of a request body refused for its size, so the sender can finish writing and
 * read the 413 (answering first and closing makes its write fail with EPIPE, and it never learns why). Bounded:
 * past `maxBytes` or `maxMs` it stops, and the connection is closed after the answer.
 */
function drainBody(raw: IncomingMessage, maxBytes: number, maxMs: number): Promise<boolean> {
  if (raw.complete || raw.readableEnded || raw.destroyed) return Promise.resolve(raw.complete || raw.readableEnded);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', onEnd).off('error', onError).off('close', onError);
      if (!drained) raw.pause();
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = () => finish(false);
    const timer = setTimeout(() => finish(false), maxMs);
    raw.on('data', onData).once('end', onEnd).once('error', onError).once('close', onError);
    raw.resume();
  });
}

/** One error body shape for every failure: `{ "error": "<kind>", "message": "..." }`. */
export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, kind, message } = classify(err, bodyLimit, req.url);
    if (status >= 500 && kind === 'internal') req.log.error({ err }, 'request failed');
    else if (status >= 500) req.log.warn({ kind, reason: message }, 'request not accepted');
    else req.log.info({ kind, reason: message }, 'request rejected');
    const body: ErrorBody = { error: kind, message };
    if (err instanceof HttpError && err.headers) reply.headers(err.headers);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return drainBody(req.raw, Math.max(16 * bodyLimit, 16 * 1024 * 1024), 10_000).then((drained) => {
        if (!drained) reply.header('connection', 'close');
        return reply.code(status).send(body);
      });
    }
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const body: ErrorBody = { error: 'not_found', message: `no route for ${req.method} ${req.url.split('?')[0]}` };
    return reply.code(404).send(body);
  });
}
