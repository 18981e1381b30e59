import { DeliveryError, classifyStatus, parseRetryAfter, scrubSecrets } from '@alertbus/common';
import { NotSentError } from '@alertbus/sink-runtime';
import type { PagerProvider } from '../pager-client';

export type HeaderValue = string | string[] | null | undefined;
const first = (v: HeaderValue) => (Array.isArray(v) ? v[0] : v ?? undefined);

/**
 * How long to wait before retrying: Retry-After when sent (the stand-in and proxies send it), else on a 429
 * Opsgenie's own X-RateLimit-Period-In-Sec (the length of the throttle window) as a hint.
 */
export function retryAfterMs(status: number, header: (name: string) => HeaderValue, nowMs = Date.now()): number | undefined {
  const ra = parseRetryAfter(first(header('retry-after')), nowMs);
  if (ra !== undefined) return ra;
  if (status !== 429) return undefined;
  const period = Number(first(header('x-ratelimit-period-in-sec')));
  return Number.isFinite(period) && period > 0 ? period * 1000 : undefined;
}

/** A non-2xx answer as a DeliveryError: 429/5xx retryable, other 4xx permanent; the message names the API's reason. */
export function httpFailure(
  provider: PagerProvider,
  what: string,
  status: number,
  body: unknown,
  header: (name: string) => HeaderValue,
  apiKey: string,
): DeliveryError {
  let reason = '';
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; errors?: unknown };
    if (typeof b.message === 'string') reason = b.message;
    if (b.errors && typeof b.errors === 'object') {
      const fields = Object.entries(b.errors as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v)}`);
      if (fields.length > 0) reason += ` (${fields.join('; ')})`;
    }
  } else if (typeof body === 'string' && body.trim() !== '') {
    reason = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  }
  const message = scrubSecrets(`${provider} ${what}: HTTP ${status}${reason ? ` ${reason}` : ''}`, [apiKey]);
  const retry = classifyStatus(status) === 'retry';
  return new DeliveryError(message, !retry, status, retry ? retryAfterMs(status, header) : undefined);
}

/** Errors raised while connecting, before a byte of the request was sent: the pager cannot have acted on it. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * No HTTP answer at all (refused, reset, timed out): worth retrying. A connection never made is a NotSentError (the
 * next attempt need not look whether it was done); any other may have reached the pager.
 */
export function networkFailure(provider: PagerProvider, what: string, err: unknown, apiKey: string): DeliveryError {
  const e = err as { code?: string; message?: string; name?: string };
  const detail = e?.code ?? (e?.name === 'TimeoutError' ? 'timeout' : undefined) ?? e?.message ?? String(err);
  const message = scrubSecrets(`${provider} ${what}: network error ${detail}`, [apiKey]);
  return e?.code !== undefined && NOT_CONNECTED.has(e.code) ? new NotSentError(message) : new DeliveryError(message, false);
}

/** A 2xx whose body is not the JSON the API documents (e.g. a proxy page): retryable, alias dedup makes it safe. */
export function unexpectedBody(provider: PagerProvider, what: string, status: number): DeliveryError {
  return new DeliveryError(`${provider} ${what}: HTTP ${status} with an unexpected body`, false, status);
}
