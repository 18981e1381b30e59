/**
 * One JSON call to the pager's HTTP API over `node:http(s)` with a keep-alive agent, one attempt per call (the sink's
 * retry policy does the retrying). Not `fetch`: under a steady 300/s it allocated enough per call, kept across the
 * request-status wait, to grow the sink's heap past 200 MB (bench/README.md, "Eighth run — sinks"). Used by the JSM
 * client for every call, and by the Opsgenie client for the calls its SDK does not have.
 */
import http from 'node:http';
import https from 'node:https';
import type { PagerProvider } from '../pager-client';
import type { Accepted } from '../wire';
import { httpFailure, networkFailure, unexpectedBody } from './errors';

const DEFAULT_TIMEOUT_MS = 10_000;
/** The API answers a few hundred bytes; an answer bigger than this is not read (a misrouted proxy's page). */
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export type Method = 'GET' | 'POST' | 'PUT';

export interface PagerHttp {
  /** A 2xx with a JSON object, or a status `allow` lists (404 on look-ups); anything else a DeliveryError. */
  request(what: string, method: Method, path: string, body?: unknown, allow?: number): Promise<Answer>;
  /** A 202 that must carry the requestId the status check needs. */
  accepted(what: string, method: Method, path: string, body: unknown): Promise<Accepted>;
}

/** Calls under `baseUrl` (its path is kept as a prefix) with `GenieKey apiKey`. */
export function pagerHttp(provider: PagerProvider, baseUrl: string, apiKey: string, timeoutMs = DEFAULT_TIMEOUT_MS): PagerHttp {
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const tls = base.protocol === 'https:';
  const agent = tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const send = tls ? https.request : http.request;
  const authorization = `GenieKey ${apiKey}`;

  /** One HTTP exchange: the status, headers and parsed body (the text when not JSON); no answer → a DeliveryError. */
  const exchange = (what: string, method: Method, path: string, body?: unknown): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const json = body === undefined ? undefined : JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = { authorization, accept: 'application/json', 'user-agent': 'alertbus-opsgenie-sink' };
      if (json !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(json);
      }
      const fail = (err: unknown) => {
        clearTimeout(timer);
        reject(networkFailure(provider, what, err, apiKey));
      };
      const req = send(
        { protocol: base.protocol, hostname: base.hostname, port: base.port, path: `${prefix}${path}`, method, agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > MAX_ANSWER_BYTES) req.destroy(Object.assign(new Error('answer too large'), { code: 'EANSWERTOOLARGE' }));
            else chunks.push(chunk);
          });
          res.on('error', fail);
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // not JSON (a proxy's page): the text is kept for the error message
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
          });
        },
      );
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), timeoutMs);
      req.on('error', fail);
      req.end(json);
    });

  /** A 2xx with a JSON object, or a status `allow` lists (404 on look-ups); anything else a DeliveryError. */
  async function request(what: string, method: Method, path: string, body?: unknown, allow?: number): Promise<Answer> {
    const answer = await exchange(what, method, path, body);
    if (answer.status === allow) return answer;
    if (answer.status < 200 || answer.status >= 300) {
      throw httpFailure(provider, what, answer.status, answer.body, (name) => answer.headers[name], apiKey);
    }
    if (answer.body === null || typeof answer.body !== 'object') throw unexpectedBody(provider, what, answer.status);
    return answer;
  }

  /** A 202 must carry the requestId the status check needs. */
  const accepted = async (what: string, method: Method, path: string, body: unknown): Promise<Accepted> => {
    const { status, body: res } = await request(what, method, path, body);
    if (typeof (res as Partial<Accepted>).requestId !== 'string') throw unexpectedBody(provider, what, status);
    return res as Accepted;
  };

  return { request, accepted };
}
