/** The one status classification every sink shares: 2xx ok, 408/429/5xx worth retrying, other 4xx permanent. */
export type DeliveryClass = 'ok' | 'retry' | 'permanent';

export function classifyStatus(status: number): DeliveryClass {
  if (status >= 200 && status < 300) return 'ok';
  // 408: the server (or a proxy or load balancer on the way) gave up waiting for the request; it was not processed,
  // and sending it again is what the status asks for (RFC 9110 §15.5.9). An infrastructure fault, not a refusal.
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'permanent';
}

/** Retry-After in seconds (or an HTTP date) → milliseconds; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | number | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value >= 0 ? value * 1000 : undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return secs >= 0 ? secs * 1000 : undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** An error that says whether trying again could help, with the HTTP status when there was one. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly httpStatus?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}
