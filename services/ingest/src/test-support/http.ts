import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface HttpResult {
  statusCode: number;
  headers: Headers;
  body: string;
  json(): unknown;
}

/**
 * What a test sends to: the app itself, driven in process with `app.inject` (routing, content-type parsers,
 * body limit, hooks, status and headers, no socket), or the URL of a listening ingest for what needs a real
 * connection (a running process, a port).
 */
export type Target = FastifyInstance | string;

/** Listens on 127.0.0.1:0, for tests that need a real socket. */
export async function listenLocal(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export async function request(
  target: Target,
  method: 'GET' | 'POST',
  path: string,
  payload?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  if (typeof target === 'string') {
    const res = await fetch(`${target}${path}`, { method, body: payload, headers });
    const body = await res.text();
    return { statusCode: res.status, headers: res.headers, body, json: () => JSON.parse(body) as unknown };
  }
  const res = await target.inject({ method, url: path, payload, headers });
  const answered = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) answered.append(name, String(v));
  }
  return { statusCode: res.statusCode, headers: answered, body: res.body, json: () => JSON.parse(res.body) as unknown };
}
