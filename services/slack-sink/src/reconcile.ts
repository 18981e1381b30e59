import { DEFAULT_RETRY_POLICY, DeliveryError, RetriesExhausted, withRetries, type Logger, type RetryPolicy } from '@alertbus/common';
import type { SettleWindow } from '@alertbus/sink-runtime';
import { LookUpUnfinished } from './client';
import { toSlackTs } from './wire';

/**
 * SLACK_POST_SETTLE_MS: how long past its request's timeout (SLACK_TIMEOUT_MS) a post that got no answer may still be
 * made by Slack, which goes on with a request the sink stopped waiting for.
 */
export const DEFAULT_SLACK_POST_SETTLE_MS = 10_000;

/**
 * How long after an attempt started a look-up that does not find its message cannot tell that it was never posted:
 * the request's timeout and SLACK_POST_SETTLE_MS. Before then the post waits and is looked for again (throwWhileSettling);
 * posting at once, as soon as Slack was slow to answer, made it twice.
 */
export function postSettleWindow(requestTimeoutMs: number, postSettleMs = DEFAULT_SLACK_POST_SETTLE_MS, now?: () => number): SettleWindow {
  return { settleMs: requestTimeoutMs + postSettleMs, ...(now ? { now } : {}) };
}

/** The window with SLACK_TIMEOUT_MS's and SLACK_POST_SETTLE_MS's defaults, when a notifier is given none. */
export const DEFAULT_POST_SETTLE: SettleWindow = postSettleWindow(10_000);

/**
 * How long after an attempt a look-up that keeps running out of pages (LookUpUnfinished) holds its command, and the
 * commands after it in its partition, before the command is executed anyway.
 */
export const UNFINISHED_LOOKUP_GIVE_UP_MS = 15 * 60_000;

/** How far before a run's start a message it posted may carry its ts (clock skew between us and Slack). */
export const RECONCILE_LOOKBACK_MS = 60_000;
/**
 * How far after a run's start a message it posted may carry its ts: the clock skew, and a request that took its whole
 * timeout (and more) to be processed. The look-up reads no message newer than that.
 */
export const RECONCILE_LOOKAHEAD_MS = 5 * 60_000;

/**
 * Where the message a run started at `startedAt` may have posted lies, as conversations.history's `oldest` and `latest`.
 * Bounded on both sides: read newest first, a channel busy since the run would otherwise take page after page to reach
 * it, and an app installed from outside the Slack Marketplace gets 15 messages a page and one page a minute.
 */
export function reconcileWindow(startedAt: Date): { oldest: string; latest: string } {
  return { oldest: toSlackTs(startedAt.getTime() - RECONCILE_LOOKBACK_MS), latest: toSlackTs(startedAt.getTime() + RECONCILE_LOOKAHEAD_MS) };
}

/**
 * Runs a reconciliation look-up (conversations.history / conversations.replies, channel resolution) with its own
 * brief retries, and answers what a failure means:
 * - Slack gave no answer (a timeout, a connection lost, a 5xx, a 429, ok:false `ratelimited` or `rate_limited`…), after the retries:
 *   it is still unknown whether the earlier run posted, and posting now would post twice if it did. The error is
 *   thrown (retryable): the runner looks again after a back-off, the post waits, nothing is lost.
 * - The look-up read as many pages as it may and messages were left (LookUpUnfinished): unknown too, thrown at once,
 *   until UNFINISHED_LOOKUP_GIVE_UP_MS after the attempt began (`startedAt`); then the command is executed.
 * - Slack refused the look-up for good (`missing_scope`, `not_in_channel`, `channel_not_found`…): it will never
 *   tell, so `undefined` is answered and the command is executed (a duplicate is better than a lost message).
 */
export async function lookUpOrThrow<T>(
  fn: () => Promise<T>,
  ctx: { policy?: RetryPolicy; log: Logger; commandId: string; what: string; startedAt?: Date; now?: () => number },
): Promise<{ value: T } | undefined> {
  // A look-up that read its pages to the budget was answered: reading them again at once could not end otherwise.
  let unfinished: LookUpUnfinished | undefined;
  const once = () =>
    fn().catch((err: unknown) => {
      if (!(err instanceof LookUpUnfinished)) throw err;
      unfinished = err;
      return undefined as T;
    });
  try {
    const value = (await withRetries(once, ctx.policy ?? DEFAULT_RETRY_POLICY)).value;
    if (unfinished) {
      // Not for ever: the command's partition waits meanwhile. Past UNFINISHED_LOOKUP_GIVE_UP_MS a duplicate is better
      // than holding every command behind it.
      const since = ctx.startedAt === undefined ? 0 : (ctx.now ?? Date.now)() - ctx.startedAt.getTime();
      if (since < UNFINISHED_LOOKUP_GIVE_UP_MS) throw unfinished;
      ctx.log.warn(
        { commandId: ctx.commandId, error: unfinished.message, lookingForMs: since },
        `could not finish looking for ${ctx.what} since the attempt began; executing the command (it may show twice)`,
      );
      return undefined;
    }
    return { value };
  } catch (err) {
    const cause = err instanceof RetriesExhausted ? err.last : err;
    if (cause instanceof DeliveryError && !cause.permanent) throw cause;
    ctx.log.warn({ commandId: ctx.commandId, error: (err as Error).message }, `could not look for ${ctx.what}; executing the command`);
    return undefined;
  }
}
