import pRetry, { AbortError } from 'p-retry';
import { envInt, envDuration, ConfigError } from './config';
import { DeliveryError } from './delivery';
import type { Logger } from './logger';
import { formatDuration } from '@alertbus/schemas';
import { StartAborted, type StartDependency, type StartWaits } from './start-waits';

type Env = Record<string, string | undefined>;

// ------------------------------------------------------------------ infrastructure faults

/**
 * The one policy for infrastructure faults (Kafka, Postgres, the network) in a consume loop: the partition
 * pauses and the same records are tried again after a capped, jittered backoff, for as long as it takes.
 * Such a fault never dead-letters or skips a record.
 */
export interface InfraRetryPolicy {
  minBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_INFRA_RETRY: InfraRetryPolicy = { minBackoffMs: 200, maxBackoffMs: 30_000 };

/** INFRA_RETRY_MIN_BACKOFF_MS / INFRA_RETRY_MAX_BACKOFF_MS. */
export function infraRetryFromEnv(env: Env = process.env): InfraRetryPolicy {
  const minBackoffMs = envInt(env, 'INFRA_RETRY_MIN_BACKOFF_MS', DEFAULT_INFRA_RETRY.minBackoffMs, { min: 1, max: 600_000 });
  const maxBackoffMs = envInt(env, 'INFRA_RETRY_MAX_BACKOFF_MS', DEFAULT_INFRA_RETRY.maxBackoffMs, { min: 1, max: 3_600_000 });
  if (maxBackoffMs < minBackoffMs) {
    throw new ConfigError(`INFRA_RETRY_MAX_BACKOFF_MS (${maxBackoffMs}) must not be below INFRA_RETRY_MIN_BACKOFF_MS (${minBackoffMs})`);
  }
  return { minBackoffMs, maxBackoffMs };
}

/**
 * Exponential backoff with "equal jitter": the wait doubles per attempt up to the cap, and half of it is
 * random, so instances that failed together do not come back together.
 */
export function backoffMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function infraBackoffMs(attempt: number, policy: InfraRetryPolicy = DEFAULT_INFRA_RETRY, random?: () => number): number {
  return backoffMs(attempt, policy.minBackoffMs, policy.maxBackoffMs, random);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * Postgres SQLSTATE classes of a server or connection in trouble, not of a bad statement. 25006
 * (read_only_sql_transaction) is a primary demoted by a failover, still reached until the pool's connections move on.
 */
const PG_TRANSIENT = [/^08/, /^53/, /^57/, /^58/, /^40001$/, /^40P01$/, /^55P03$/, /^25006$/];

/**
 * What node-postgres says when the connection, not the statement, failed; and pg-pool's "timeout exceeded when trying to
 * connect" when every pooled client stayed busy past PG_CONNECT_TIMEOUT_MS (a slow or hung server).
 */
const PG_CLIENT_MESSAGES =
  /connection terminated|connection timeout|timeout expired|query read timeout|connection error|not queryable|Cannot use a pool after calling end|the database system is (starting|shutting) up|timeout exceeded when trying to connect/i;

export type ErrorLike = { name?: unknown; code?: unknown; message?: unknown; type?: unknown; cause?: unknown; originalError?: unknown };

/** The error and what caused it (`cause`, or KafkaJS's `originalError`), outermost first. */
export function errorChain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let e: unknown = err;
  while (e && typeof e === 'object' && out.length < 10) {
    out.push(e as ErrorLike);
    e = (e as ErrorLike).cause ?? (e as ErrorLike).originalError;
  }
  return out;
}

/** A connection-level failure anywhere in the error's chain (refused, reset, timed out, unresolvable). */
export function isNetworkError(err: unknown): boolean {
  return errorChain(err).some((e) => typeof e.code === 'string' && NETWORK_CODES.has(e.code));
}

/**
 * True for a fault of the infrastructure rather than of the record: any KafkaJS error, a Postgres connection
 * or server condition (SQLSTATE 08, 53, 57 — statement timeouts included —, 58, serialization and deadlock),
 * node-postgres losing its connection, and network errors (refused, reset, timed out, unresolvable).
 */
export function isInfrastructureError(err: unknown): boolean {
  return errorChain(err).some((e) => {
    const name = typeof e.name === 'string' ? e.name : '';
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    if (name.startsWith('KafkaJS') || name === 'TimeoutError') return true;
    if (NETWORK_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && PG_TRANSIENT.some((re) => re.test(code))) return true;
    return PG_CLIENT_MESSAGES.test(message);
  });
}

/** Kafka refusing the credentials, or a setting it cannot take, is the operator's to fix, not a server to wait for. */
const NOT_WAITED_FOR = /SASLAuthentication|InvalidConfig/;

/**
 * Runs a start-up step that needs Kafka or Postgres until it gets through. The server not there yet (refused,
 * unreachable, timed out, still starting) is an infrastructure fault like any other: the service waits for it with
 * the infrastructure back-off and says so at every attempt, instead of exiting and leaving the wait to whatever
 * restarts it. Anything else (refused credentials, a bad setting, a bug) is thrown at once. With `waits`, the ops
 * routes tell what it waits for, and a stop of the service ends the wait (StartAborted).
 */
export async function untilReachable<T>(
  what: StartDependency,
  step: () => Promise<T>,
  opts: { log: Pick<Logger, 'warn' | 'info'>; policy?: InfraRetryPolicy; sleep?: (ms: number) => Promise<void>; waits?: StartWaits },
): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const signal = opts.waits?.signal;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new StartAborted(what);
    try {
      if (attempt === 1) opts.waits?.waiting(what);
      const value = await unlessAborted(step(), signal, what);
      opts.waits?.reached(what);
      if (attempt > 1) opts.log.info({ attempts: attempt }, `${what} reachable: start-up goes on`);
      return value;
    } catch (err) {
      if (err instanceof StartAborted) throw err;
      const chain = errorChain(err);
      if (!isInfrastructureError(err) || chain.some((e) => typeof e.name === 'string' && NOT_WAITED_FOR.test(e.name))) throw err;
      const waitMs = infraBackoffMs(attempt, opts.policy);
      const reason = chain.map((e) => (typeof e.message === 'string' ? e.message : '')).filter(Boolean).at(-1) ?? String(err);
      opts.waits?.waiting(what, reason);
      opts.log.warn({ attempt, retryInMs: waitMs, reason }, `${what} not reachable yet: waiting for it`);
      await unlessAborted(sleep(waitMs), signal, what);
    }
  }
}

/** `work`, or StartAborted as soon as `signal` is aborted (the work itself is left to finish or fail unheard). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new StartAborted(what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined);
      reject(new StartAborted(what));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

// ------------------------------------------------------------------ deliveries (Slack, pager)

/**
 * How long a Slack or pager delivery keeps trying 429, 5xx and network failures: any Retry-After is honoured,
 * however long, as long as the next try still falls within the budget (counted from the first attempt);
 * without one the wait doubles from minBackoffMs up to maxBackoffMs, with jitter.
 */
export interface DeliveryRetryPolicy {
  budgetMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_DELIVERY_RETRY: DeliveryRetryPolicy = { budgetMs: 24 * 3_600_000, minBackoffMs: 500, maxBackoffMs: 60_000 };

/** DELIVERY_RETRY_BUDGET (a duration), DELIVERY_RETRY_MIN_BACKOFF_MS, DELIVERY_RETRY_MAX_BACKOFF_MS. */
export function deliveryRetryFromEnv(env: Env = process.env): DeliveryRetryPolicy {
  const budgetMs = envDuration(env, 'DELIVERY_RETRY_BUDGET', DEFAULT_DELIVERY_RETRY.budgetMs, { min: 1 });
  const minBackoffMs = envInt(env, 'DELIVERY_RETRY_MIN_BACKOFF_MS', DEFAULT_DELIVERY_RETRY.minBackoffMs, { min: 1, max: 3_600_000 });
  const maxBackoffMs = envInt(env, 'DELIVERY_RETRY_MAX_BACKOFF_MS', DEFAULT_DELIVERY_RETRY.maxBackoffMs, { min: 1, max: 86_400_000 });
  if (maxBackoffMs < minBackoffMs) {
    throw new ConfigError(`DELIVERY_RETRY_MAX_BACKOFF_MS (${maxBackoffMs}) must not be below DELIVERY_RETRY_MIN_BACKOFF_MS (${minBackoffMs})`);
  }
  return { budgetMs, minBackoffMs, maxBackoffMs };
}

/** What to do after a delivery attempt failed: try again at a time, or give up and say why. */
export type DeliveryRetryPlan = { retry: true; waitMs: number; atMs: number } | { retry: false; reason: string };

export function planDeliveryRetry(
  err: DeliveryError,
  at: { attempt: number; firstAttemptAtMs: number; nowMs: number },
  policy: DeliveryRetryPolicy = DEFAULT_DELIVERY_RETRY,
  random?: () => number,
): DeliveryRetryPlan {
  if (err.permanent) return { retry: false, reason: 'permanent failure' };
  const waitMs =
    err.retryAfterMs !== undefined
      ? Math.max(err.retryAfterMs, policy.minBackoffMs)
      : backoffMs(at.attempt, policy.minBackoffMs, policy.maxBackoffMs, random);
  const atMs = at.nowMs + waitMs;
  const budgetEnd = at.firstAttemptAtMs + policy.budgetMs;
  if (atMs > budgetEnd) {
    const why = err.retryAfterMs !== undefined ? `Retry-After ${formatDuration(err.retryAfterMs)}` : `backoff ${formatDuration(waitMs)}`;
    return {
      retry: false,
      reason: `retry budget spent: the next try (${why}) would fall after DELIVERY_RETRY_BUDGET (${formatDuration(policy.budgetMs)}) from the first attempt`,
    };
  }
  return { retry: true, waitMs, atMs };
}

// ------------------------------------------------------------------ look-ups with a fallback

/**
 * Brief in-process retries for look-ups whose failure has a safe fallback (e.g. checking Slack for a message
 * an interrupted run may have posted: not knowing means posting). Deliveries use DeliveryRetryPolicy.
 */
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
