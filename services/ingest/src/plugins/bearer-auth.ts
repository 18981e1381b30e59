import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http-error';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * An onRequest hook requiring `Authorization: Bearer <token>`; it runs before the body is read, and
 * compares digests in constant time so neither the token nor its length leaks through timing.
 */
export function bearerAuth(token: string) {
  const expected = digest(token);
  return async function checkBearer(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match) {
      reply.header('www-authenticate', 'Bearer realm="alertbus"');
      throw new HttpError(401, 'unauthorized', 'missing bearer token: send "Authorization: Bearer <INGEST_TOKEN>"');
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      reply.header('www-authenticate', 'Bearer realm="alertbus", error="invalid_token"');
      throw new HttpError(401, 'unauthorized', 'invalid bearer token');
    }
  };
}
