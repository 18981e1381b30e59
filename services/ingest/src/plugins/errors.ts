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

function classify(err: FastifyError, bodyLimit: number): { status: number; kind: ErrorKind; message: string } {
  if (err instanceof HttpError) return { status: err.statusCode, kind: err.kind, message: err.message };
  if (err.validation) return { status: 400, kind: 'invalid_payload', message: err.message };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        kind: 'payload_too_large',
        message: `request body is larger than the limit of ${bodyLimit} bytes (INGEST_BODY_LIMIT)`,
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

/** One error body shape for every failure: `{ "error": "<kind>", "message": "..." }`. */
export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, kind, message } = classify(err, bodyLimit);
    if (status >= 500 && kind === 'internal') req.log.error({ err }, 'request failed');
    else if (status >= 500) req.log.warn({ kind, reason: message }, 'request not accepted');
    else req.log.info({ kind, reason: message }, 'request rejected');
    const body: ErrorBody = { error: kind, message };
    if (err instanceof HttpError && err.headers) reply.headers(err.headers);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const body: ErrorBody = { error: 'not_found', message: `no route for ${req.method} ${req.url.split('?')[0]}` };
    return reply.code(404).send(body);
  });
}
