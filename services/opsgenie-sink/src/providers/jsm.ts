/**
 * Jira Service Management Operations, Opsgenie's successor, through its integration events API: the same
 * bodies, the same `GenieKey` auth and the same async 202 + request-status model, under
 * `<OPSGENIE_API_URL>/jsm/ops/integration` (https://api.atlassian.com/jsm/ops/integration in production).
 * Plain `fetch`, one attempt per call; the sink's retry policy does the retrying.
 *
 * The integration API documents create/acknowledge/close/add-note and request status, not a GET of an alert;
 * `getOpenByAlias` uses the Opsgenie-shaped GET and reads any 404 as "none open", which is safe: it is only
 * used for reconciliation, where creating again is deduplicated by alias and closing again is a no-op.
 */
import type { PagerClient, PagerClientOptions } from '../pager-client';
import type { Accepted, ActionBody, CreateAlertBody, PagerAlert, RequestStatus } from '../wire';
import { httpFailure, networkFailure, unexpectedBody } from './errors';

export const JSM_INTEGRATION_PATH = '/jsm/ops/integration';
const DEFAULT_TIMEOUT_MS = 10_000;

interface Answer {
  status: number;
  body: unknown;
}

export function createJsmClient(opts: PagerClientOptions): PagerClient {
  const base = `${opts.apiUrl.replace(/\/+$/, '')}${JSM_INTEGRATION_PATH}`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { apiKey } = opts;

  /** One HTTP exchange; non-2xx becomes a DeliveryError unless `allow` lists the status (e.g. 404 on lookups). */
  async function request(what: string, method: 'GET' | 'POST', path: string, body?: unknown, allow: number[] = []): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `GenieKey ${apiKey}`,
          accept: 'application/json',
          'user-agent': 'alertbus-opsgenie-sink',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw networkFailure('jsm', what, err, apiKey);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw networkFailure('jsm', what, err, apiKey);
    }
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (a proxy's page): keep the text for the error message
    }
    if (allow.includes(res.status)) return { status: res.status, body: parsed };
    if (res.status < 200 || res.status >= 300) {
      throw httpFailure('jsm', what, res.status, parsed, (name) => res.headers.get(name), apiKey);
    }
    if (parsed === null || typeof parsed !== 'object') throw unexpectedBody('jsm', what, res.status);
    return { status: res.status, body: parsed };
  }

  const accepted = async (what: string, path: string, body: unknown): Promise<Accepted> => {
    const { status, body: res } = await request(what, 'POST', path, body);
    if (typeof (res as Partial<Accepted>).requestId !== 'string') throw unexpectedBody('jsm', what, status);
    return res as Accepted;
  };
  const byAlias = (alias: string, action: string) => `/v2/alerts/${encodeURIComponent(alias)}/${action}?identifierType=alias`;

  return {
    provider: 'jsm',
    create: (body: CreateAlertBody) => accepted('create alert', '/v2/alerts', body),
    close: (alias: string, body: ActionBody) => accepted('close alert', byAlias(alias, 'close'), body),
    acknowledge: (alias: string, body: ActionBody) => accepted('acknowledge alert', byAlias(alias, 'acknowledge'), body),
    addNote: (alias: string, body: ActionBody & { note: string }) => accepted('add note', byAlias(alias, 'notes'), body),
    async getOpenByAlias(alias: string): Promise<PagerAlert | undefined> {
      const res = await request('get alert', 'GET', `/v2/alerts/${encodeURIComponent(alias)}?identifierType=alias`, undefined, [404]);
      if (res.status === 404) return undefined;
      const data = (res.body as { data?: PagerAlert }).data;
      return data?.status === 'open' ? data : undefined;
    },
    async requestStatus(requestId: string): Promise<RequestStatus | undefined> {
      const res = await request('request status', 'GET', `/v2/alerts/requests/${encodeURIComponent(requestId)}`, undefined, [404]);
      if (res.status === 404) return undefined;
      return (res.body as { data?: RequestStatus }).data;
    },
  };
}
