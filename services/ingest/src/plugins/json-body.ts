import type { FastifyInstance } from 'fastify';
import { HttpError } from '../http-error';

/** Parses JSON like JSON.parse, but refuses prototype-poisoning keys, which no monitoring payload needs. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'invalid_json', 'invalid JSON body: the body is empty');
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)) {
        throw new SyntaxError(`forbidden property name "${key}"`);
      }
      return value;
    });
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `invalid JSON body: ${(err as Error).message}`);
  }
}

/**
 * Every webhook body is JSON, whatever Content-Type the sender set (`curl -d` sends form encoding), and a
 * parse error says what is wrong instead of fastify's generic message.
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  const parser = (_req: unknown, body: string, done: (err: Error | null, body?: unknown) => void) => {
    try {
      done(null, parseJsonBody(body));
    } catch (err) {
      done(err as Error);
    }
  };
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, parser);
  app.addContentTypeParser('*', { parseAs: 'string' }, parser);
}
