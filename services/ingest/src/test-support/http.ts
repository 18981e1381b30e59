import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

export interface HttpResult {
  statusCode: number;
  headers: Headers;
  body: string;
  json(): unknown;
}

/**
 * Real HTTP against an app listening on 127.0.0.1:0. (`app.inject` cannot load under jest here:
 * light-my-request 6.8 requires the ESM-only cookie 2.x, which jest's CommonJS runtime refuses.)
 */
export async function listenLocal(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export async function request(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  payload?: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const res = await fetch(`${base}${path}`, { method, body: payload, headers });
  const body = await res.text();
  return { statusCode: res.status, headers: res.headers, body, json: () => JSON.parse(body) as unknown };
}
