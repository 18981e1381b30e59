/**
 * Opsgenie through the npm `opsgenie-sdk` (0.5.1). The SDK is callback-only, keeps its configuration in a
 * process-wide singleton and retries on its own (5 attempts, fixed 5 s, Retry-After ignored); this module is
 * the only place that touches it, and turns it into a PagerClient that makes exactly one HTTP attempt per
 * call, so the sink's shared retry policy decides about retries.
 *
 * Two configurations in one process (two sinks, or tests pointing at two stand-ins) would fight over the
 * SDK's global `configure`. The SDK reads the key and host synchronously inside each call, so every client
 * re-applies its own configuration right before its call, only when it differs from the one last applied:
 * one process with one configuration configures once; several never see each other's key or host.
 */
import opsgenie from 'opsgenie-sdk';
import { DeliveryError } from '@alertbus/common';
import type { PagerPriority } from '@alertbus/schemas';
import type { PagerClient, PagerClientOptions } from '../pager-client';
import type { Accepted, ActionBody, AlertNote, AlertNotesPage, CreateAlertBody, PagerAlert, RequestStatus } from '../wire';
import { httpFailure, networkFailure, unexpectedBody, type HeaderValue } from './errors';
import { pagerHttp } from './http-api';

type SdkCall = Parameters<typeof opsgenie.alertV2.create>[1];
type SdkCallback = Parameters<typeof opsgenie.alertV2.create>[2];
type SdkResponse = Parameters<NonNullable<SdkCall['retryStrategy']>>[1];

const DEFAULT_TIMEOUT_MS = 10_000;
/** List Alert Notes' largest page. */
const NOTES_PAGE_SIZE = 100;

/** The offset `paging.next` (a full URL) asks for, if it names one. */
function nextOffset(next: unknown): { next?: string } {
  if (typeof next !== 'string') return {};
  try {
    const offset = new URL(next).searchParams.get('offset');
    return offset ? { next: offset } : {};
  } catch {
    return {};
  }
}

let applied: { apiKey: string; host: string } | null = null;

/** Points the SDK singleton at this client's key and host (synchronously, right before the call that uses it). */
function configureSdk(apiKey: string, host: string): void {
  if (applied && applied.apiKey === apiKey && applied.host === host) return;
  opsgenie.configure({ api_key: apiKey, host });
  applied = { apiKey, host };
}

/** Never settles: parks the SDK's own response handling where it would misbehave (see `call`). */
const parked = () => new Promise<never>(() => undefined);

export function createOpsgenieClient(opts: PagerClientOptions): PagerClient {
  const host = opts.apiUrl.replace(/\/+$/, ''); // the SDK concatenates host + '/v2/...'
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { apiKey } = opts;

  /**
   * One SDK call as a promise. The SDK's callback drops the response headers (Retry-After, rate-limit
   * headers), throws on a non-JSON body (a proxy's HTML error page would leave the callback uncalled and
   * reject an unhandled promise) and console.logs network errors. So the response is first seen in the
   * per-call `retryStrategy` hook of requestretry, which gets the raw response: headers are kept from there,
   * and the cases the SDK mishandles are settled there and the SDK's continuation is parked.
   */
  const call = <T>(
    what: string,
    invoke: (config: SdkCall, cb: SdkCallback) => void,
    onStatus?: (status: number) => T | undefined,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let response: SdkResponse | undefined;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        fn();
      };
      const header = (name: string): HeaderValue => response?.headers[name];
      const fail = (status: number, body: unknown) => {
        const special = onStatus?.(status);
        if (special !== undefined) resolve(special);
        else reject(httpFailure('opsgenie', what, status, body, header, apiKey));
      };
      const config: SdkCall = {
        maxAttempts: 1,
        timeout,
        retryStrategy: (err, res, body) => {
          if (err || !res) {
            settle(() => reject(networkFailure('opsgenie', what, err, apiKey)));
            return parked();
          }
          response = res;
          if (body === null || typeof body !== 'object') {
            settle(() => (res.statusCode < 300 ? reject(unexpectedBody('opsgenie', what, res.statusCode)) : fail(res.statusCode, body)));
            return parked();
          }
          return false; // one attempt only: the sink's retry policy decides
        },
      };
      const cb: SdkCallback = (error, result) =>
        settle(() => {
          if (!error) return resolve(result as T);
          const status = (error as { httpStatusCode?: number }).httpStatusCode ?? response?.statusCode;
          if (status === undefined) return reject(networkFailure('opsgenie', what, error, apiKey));
          // The SDK's error object is the error body (in NODE_ENV=development plus the stringified request,
          // Authorization header included): only its message and field errors are kept, scrubbed.
          fail(status, error);
        });
      configureSdk(apiKey, host);
      try {
        invoke(config, cb);
      } catch (err) {
        settle(() => reject(new DeliveryError(`opsgenie ${what}: ${(err as Error).message}`, false)));
      }
    });

  /** A 202 must carry the requestId the status check needs. */
  const accepted = async (what: string, invoke: (config: SdkCall, cb: SdkCallback) => void): Promise<Accepted> => {
    const res = await call<Partial<Accepted>>(what, invoke);
    if (typeof res?.requestId !== 'string') throw unexpectedBody('opsgenie', what, 202);
    return res as Accepted;
  };

  const byAlias = (alias: string) => ({ identifier: encodeURIComponent(alias), identifierType: 'alias' as const });
  // The SDK has no call for `PUT /v2/alerts/{alias}/priority` (nor any PUT), and its listAlertNotes cannot page by
  // offset: those go over plain HTTP.
  const direct = pagerHttp('opsgenie', host, apiKey, timeout);
  const NOT_FOUND = Symbol('not found');

  return {
    provider: 'opsgenie',
    create: (body: CreateAlertBody) =>
      accepted('create alert', (c, cb) => opsgenie.alertV2.create(body, c, cb)),
    close: (alias: string, body: ActionBody) =>
      accepted('close alert', (c, cb) => opsgenie.alertV2.close(byAlias(alias), body, c, cb)),
    acknowledge: (alias: string, body: ActionBody) =>
      accepted('acknowledge alert', (c, cb) => opsgenie.alertV2.acknowledge(byAlias(alias), body, c, cb)),
    addNote: (alias: string, body: ActionBody & { note: string }) =>
      accepted('add note', (c, cb) => opsgenie.alertV2.addNote(byAlias(alias), body, c, cb)),
    updatePriority: (alias: string, priority: PagerPriority) =>
      direct.accepted('update priority', 'PUT', `/v2/alerts/${encodeURIComponent(alias)}/priority?identifierType=alias`, { priority }),
    async listNotes(alias: string, offset?: string): Promise<AlertNotesPage | undefined> {
      const query = new URLSearchParams({ identifierType: 'alias', order: 'desc', direction: 'next', limit: String(NOTES_PAGE_SIZE) });
      if (offset !== undefined) query.set('offset', offset);
      const res = await direct.request('list notes', 'GET', `/v2/alerts/${encodeURIComponent(alias)}/notes?${query.toString()}`, undefined, 404);
      if (res.status === 404) return undefined;
      const body = res.body as { data?: unknown; paging?: { next?: unknown } };
      if (!Array.isArray(body.data)) throw unexpectedBody('opsgenie', 'list notes', res.status);
      const notes = body.data.filter(
        (n): n is AlertNote => typeof n === 'object' && n !== null && typeof n.note === 'string' && typeof n.createdAt === 'string',
      );
      return { notes, ...nextOffset(body.paging?.next) };
    },
    async getOpenByAlias(alias: string): Promise<PagerAlert | undefined> {
      const res = await call<{ data: PagerAlert } | typeof NOT_FOUND>(
        'get alert',
        (c, cb) => opsgenie.alertV2.get(byAlias(alias), c, cb),
        (status) => (status === 404 ? NOT_FOUND : undefined),
      );
      if (res === NOT_FOUND || res.data?.status !== 'open') return undefined;
      return res.data;
    },
    async requestStatus(requestId: string): Promise<RequestStatus | undefined> {
      const res = await call<{ data: RequestStatus } | typeof NOT_FOUND>(
        'request status',
        (c, cb) => opsgenie.alertV2.getRequestStatus(encodeURIComponent(requestId), c, cb),
        (status) => (status === 404 ? NOT_FOUND : undefined),
      );
      return res === NOT_FOUND ? undefined : res.data;
    },
  };
}
