import pRetry, { AbortError } from 'p-retry';
import { DeliveryError } from './delivery';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** A Retry-After longer than this is not waited out in-process; the attempt fails instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 5,
  minTimeoutMs: 500,
  maxTimeoutMs: 10_000,
  maxRetryAfterMs: 60_000,
};

export interface AttemptError {
  at: string;
  error: string;
}

export interface RetryOutcome<T> {
  value: T;
  attempts: number;
}

/** Thrown when every attempt failed; carries each attempt's error for the dead-letter record. */
export class RetriesExhausted extends Error {
  constructor(
    readonly last: DeliveryError,
    readonly attempts: AttemptError[],
  ) {
    super(last.message);
    this.name = 'RetriesExhausted';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn` until it succeeds, a permanent DeliveryError is thrown, or the retries run out.
 * Any non-DeliveryError counts as retryable (network trouble). Retry-After, when given, replaces the backoff.
 */
export async function withRetries<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  onRetry?: (err: DeliveryError, attempt: number, waitMs: number) => void,
): Promise<RetryOutcome<T>> {
  const attempts: AttemptError[] = [];
  let attemptsMade = 0;
  try {
    const value = await pRetry(
      async (attempt: number) => {
        attemptsMade = attempt;
        try {
          return await fn(attempt);
        } catch (raw) {
          const err =
            raw instanceof DeliveryError ? raw : new DeliveryError((raw as Error)?.message ?? String(raw), false);
          attempts.push({ at: new Date().toISOString(), error: err.message });
          if (err.permanent) throw new AbortError(err);
          if (err.retryAfterMs !== undefined && err.retryAfterMs > policy.maxRetryAfterMs) {
            throw new AbortError(err);
          }
          if (err.retryAfterMs !== undefined && attempt <= policy.retries) {
            onRetry?.(err, attempt, err.retryAfterMs);
            await sleep(err.retryAfterMs);
            // the backoff from p-retry still follows; keep it small for rate limits
          } else if (attempt <= policy.retries) {
            onRetry?.(err, attempt, -1);
          }
          throw err;
        }
      },
      {
        retries: policy.retries,
        minTimeout: policy.minTimeoutMs,
        maxTimeout: policy.maxTimeoutMs,
        factor: 2,
        randomize: true,
      },
    );
    return { value, attempts: attemptsMade };
  } catch (e) {
    const last = e instanceof DeliveryError ? e : new DeliveryError((e as Error).message, false);
    throw new RetriesExhausted(last, attempts);
  }
}
