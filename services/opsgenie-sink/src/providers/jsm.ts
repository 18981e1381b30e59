/**
 * Jira Service Management Operations, Opsgenie's successor, through its integration events API: the same
 * bodies, the same `GenieKey` auth and the same async 202 + request-status model, under
 * `<OPSGENIE_API_URL>/jsm/ops/integration` (https://api.atlassian.com/jsm/ops/integration in production).
 * Plain requests over `node:http(s)` with a keep-alive agent, one attempt per call; the sink's retry policy does the
 * retrying. Not `fetch`: under a steady 300/s it allocated enough per call, kept across the request-status wait, to
 * grow the sink's heap past 200 MB (bench/README.md, "Eighth run — sinks").
 *
 * The integration API documents create/acknowledge/close/add-note and request status, not a GET of an alert;
 * `getOpenByAlias` uses the Opsgenie-shaped GET and reads any 404 as "none open", which is safe: it is only
 * used for reconciliation, where creating again is deduplicated by alias and closing again is a no-op.
 */
import http from 'node:http';
import https from 'node:https';
import type { PagerClient, PagerClientOptions } from '../pager-client';
import type { Accepted, ActionBody, CreateAlertBody, PagerAlert, RequestStatus } from '../wire';
import { httpFailure, networkFailure, unexpectedBody } from './errors';

export const JSM_INTEGRATION_PATH = '/jsm/ops/integration';
const DEFAULT_TIMEOUT_MS = 10_000;
/** The API answers a few hundred bytes; an answer bigger than this is not read (a misrouted proxy's page). */
const MAX_ANSWER_BYTES = 1024 * 1024;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export function createJsmClient(opts: PagerClientOptions): PagerClient {
  const provider = 'jsm';
  const base = new URL(`${opts.apiUrl.replace(/\/+$/, '')}${JSM_INTEGRATION_PATH}`);
  const prefix = base.pathname.replace(/\/+$/, '');
  const tls = base.protocol === 'https:';
  const agent = tls ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const send = tls ? https.request : http.request;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { apiKey } = opts;
  const authorization = `GenieKey ${apiKey}`;

  /** One HTTP exchange: the status, headers and parsed body (the text when not JSON); no answer → a DeliveryError. */
  const exchange = (what: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> =>
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
  async function request(what: string, method: 'GET' | 'POST', path: string, body?: unknown, allow?: number): Promise<Answer> {
    const answer = await exchange(what, method, path, body);
    if (answer.status === allow) return answer;
    if (answer.status < 200 || answer.status >= 300) {
      throw httpFailure(provider, what, answer.status, answer.body, (name) => answer.headers[name], apiKey);
    }
    if (answer.body === null || typeof answer.body !== 'object') throw unexpectedBody(provider, what, answer.status);
    return answer;
  }

  /** A 202 must carry the requestId the status check needs. */
  const accepted = async (what: string, path: string, body: unknown): Promise<Accepted> => {
    const { status, body: res } = await request(what, 'POST', path, body);
    if (typeof (res as Partial<Accepted>).requestId !== 'string') throw unexpectedBody(provider, what, status);
    return res as Accepted;
  };
  const byAlias = (alias: string, action: string) => `/v2/alerts/${encodeURIComponent(alias)}/${action}?identifierType=alias`;

  return {
    provider,
    create: (body: CreateAlertBody) => accepted('create alert', '/v2/alerts', body),
    close: (alias: string, body: ActionBody) => accepted('close alert', byAlias(alias, 'close'), body),
    acknowledge: (alias: string, body: ActionBody) => accepted('acknowledge alert', byAlias(alias, 'acknowledge'), body),
    addNote: (alias: string, body: ActionBody & { note: string }) => accepted('add note', byAlias(alias, 'notes'), body),
    async getOpenByAlias(alias: string): Promise<PagerAlert | undefined> {
      const res = await request('get alert', 'GET', `/v2/alerts/${encodeURIComponent(alias)}?identifierType=alias`, undefined, 404);
      if (res.status === 404) return undefined;
      const data = (res.body as { data?: PagerAlert }).data;
      return data?.status === 'open' ? data : undefined;
    },
    async requestStatus(requestId: string): Promise<RequestStatus | undefined> {
      const res = await request('request status', 'GET', `/v2/alerts/requests/${encodeURIComponent(requestId)}`, undefined, 404);
      if (res.status === 404) return undefined;
      return (res.body as { data?: RequestStatus }).data;
    },
  };
}
