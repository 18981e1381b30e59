/**
 * Jira Service Management Operations, Opsgenie's successor, through its integration events API: the same
 * bodies, the same `GenieKey` auth and the same async 202 + request-status model, under
 * `<OPSGENIE_API_URL>/jsm/ops/integration` (https://api.atlassian.com/jsm/ops/integration in production).
 * Plain requests over `node:http(s)` (./http-api), one attempt per call; the sink's retry policy does the retrying.
 *
 * The integration API documents create/acknowledge/close/add-note and request status, not a GET of an alert;
 * `getOpenByAlias` uses the Opsgenie-shaped GET and reads any 404 as "none open", which is safe: it is used for
 * reconciliation, where creating again is deduplicated by alias and closing again is a no-op, and by a create held
 * behind a close not processed past OPSGENIE_CREATE_SETTLE_MS, which then goes (the wait ends as it did before the
 * look-up existed).
 */
import type { PagerClient, PagerClientOptions } from '../pager-client';
import type { ActionBody, CreateAlertBody, PagerAlert, RequestStatus } from '../wire';
import { pagerHttp } from './http-api';

export const JSM_INTEGRATION_PATH = '/jsm/ops/integration';

export function createJsmClient(opts: PagerClientOptions): PagerClient {
  const provider = 'jsm';
  const { request, accepted } = pagerHttp(provider, `${opts.apiUrl.replace(/\/+$/, '')}${JSM_INTEGRATION_PATH}`, opts.apiKey, opts.timeoutMs);
  const byAlias = (alias: string, action: string) => `/v2/alerts/${encodeURIComponent(alias)}/${action}?identifierType=alias`;

  return {
    provider,
    create: (body: CreateAlertBody) => accepted('create alert', 'POST', '/v2/alerts', body),
    close: (alias: string, body: ActionBody) => accepted('close alert', 'POST', byAlias(alias, 'close'), body),
    acknowledge: (alias: string, body: ActionBody) => accepted('acknowledge alert', 'POST', byAlias(alias, 'acknowledge'), body),
    addNote: (alias: string, body: ActionBody & { note: string }) => accepted('add note', 'POST', byAlias(alias, 'notes'), body),
    // No updatePriority: the integration events API documents create, acknowledge, close and add note only.
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
