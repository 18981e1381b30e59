import { DeliveryError } from '@alertbus/common';

/**
 * How long the effect of an attempt that got no answer may not show yet: its request may still be on its way, queued,
 * or being processed by the API after the sink stopped waiting for the answer.
 */
export interface SettleWindow {
  /** How long after an attempt started a look-up that does not find its effect cannot tell that it never happened. */
  settleMs: number;
  /** Meanwhile, how soon to look again; default DEFAULT_SETTLE_LOOKUP_INTERVAL_MS. */
  lookAgainMs?: number;
  now?: () => number;
}

export const DEFAULT_SETTLE_LOOKUP_INTERVAL_MS = 1_000;

/**
 * Called when a reconciling look-up did not find what the attempt started at `startedAt` was to do. Before the window
 * after that start is over it throws "cannot tell yet", a retryable DeliveryError whose retryAfterMs is when to look
 * again (the runner waits for it, see Notifier.reconcile); after it, it returns: not found means never done.
 */
export function throwWhileSettling(startedAt: Date | undefined, window: SettleWindow, notFound: string): void {
  if (!startedAt) return;
  const pendingMs = startedAt.getTime() + window.settleMs - (window.now ?? Date.now)();
  if (pendingMs <= 0) return;
  throw new DeliveryError(
    `${notFound} yet; the request sent at ${startedAt.toISOString()} may still be pending`,
    false,
    undefined,
    Math.min(pendingMs, window.lookAgainMs ?? DEFAULT_SETTLE_LOOKUP_INTERVAL_MS),
  );
}
