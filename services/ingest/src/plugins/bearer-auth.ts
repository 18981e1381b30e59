import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http-error';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** An accepted bearer token; `name` (INGEST_TOKENS) is recorded on the events sent with it. */
export interface AcceptedToken {
  token: string;
  name?: string;
}

const senders = new WeakMap<FastifyRequest, string>();

/** The INGEST_TOKENS name the request authenticated with (undefined for INGEST_TOKEN or no token). */
export function senderOf(req: FastifyRequest): string | undefined {
  return senders.get(req);
}

/**
 * An onRequest hook requiring `Authorization: Bearer <token>` with one of the accepted tokens; it runs
 * before the body is read, and compares digests in constant time against every token (no early exit), so
 * neither a token, its length nor which one matched leaks through timing.
 */
export function bearerAuth(tokens: readonly AcceptedToken[]) {
  const expected = tokens.map((t) => ({ digest: digest(t.token), name: t.name }));
  return async function checkBearer(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match) {
      reply.header('www-authenticate', 'Bearer realm="alertbus"');
      throw new HttpError(401, 'unauthorized', 'missing bearer token: send "Authorization: Bearer <token>" with INGEST_TOKEN or an INGEST_TOKENS entry (pager webhooks take named entries only)');
    }
    const given = digest(match[1]!);
    let found: (typeof expected)[number] | undefined;
    for (const e of expected) if (timingSafeEqual(given, e.digest) && !found) found = e;
    if (!found) {
      reply.header('www-authenticate', 'Bearer realm="alertbus", error="invalid_token"');
      throw new HttpError(401, 'unauthorized', 'invalid bearer token');
    }
    if (found.name !== undefined) senders.set(req, found.name);
  };
}
