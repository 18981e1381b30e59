/**
 * A per-method sliding window, so a test can make the stand-in answer 429 like Slack's tiers do: `perSecond` for the
 * special tier of chat.postMessage (about 1 a second per channel), `perMinute` for Tiers 1–4 (Tier 3, e.g.
 * conversations.history and conversations.replies: 50+ a minute; non-Marketplace apps created since 2025-05-29: 1).
 */
export type MethodRateLimit = ({ perSecond: number } | { perMinute: number }) & {
  /**
   * How a call over the limit is answered: `http-429` (default) is HTTP 429 with a Retry-After, as Slack's tiers say;
   * `rate_limited` is HTTP 200 `{ok:false, error:"rate_limited"}` with no Retry-After, the error chat.postMessage
   * documents ("Application has posted too many messages").
   */
  answer?: 'http-429' | 'rate_limited';
  /** Counted per channel (the calls' `channel`), as Slack counts chat.postMessage's special tier; per method when absent. */
  perChannel?: boolean;
};

export class RateLimiter {
  private readonly seen = new Map<string, number[]>();

  constructor(
    private readonly limits: Readonly<Record<string, MethodRateLimit>>,
    private readonly now: () => number = Date.now,
  ) {}

  /** How a call of `method` over its limit is answered. */
  answerOf(method: string): 'http-429' | 'rate_limited' {
    return this.limits[method]?.answer ?? 'http-429';
  }

  /** Records the call and returns undefined when allowed, or the seconds to wait (Retry-After) when not. */
  take(method: string, channel?: unknown): number | undefined {
    const limit = this.limits[method];
    if (!limit) return undefined;
    const key = limit.perChannel ? `${method} ${String(channel ?? '')}` : method;
    const [max, windowMs] = 'perSecond' in limit ? [limit.perSecond, 1000] : [limit.perMinute, 60_000];
    const now = this.now();
    const recent = (this.seen.get(key) ?? []).filter((t) => t > now - windowMs);
    if (recent.length >= max) {
      this.seen.set(key, recent);
      return Math.max(1, Math.ceil((recent[0]! + windowMs - now) / 1000));
    }
    recent.push(now);
    this.seen.set(key, recent);
    return undefined;
  }
}
