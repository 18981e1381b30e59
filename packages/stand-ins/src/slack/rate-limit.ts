/** A per-method sliding one-second window, so a test can make the stand-in answer 429 like Slack's tiers do. */
export interface MethodRateLimit {
  perSecond: number;
}

export class RateLimiter {
  private readonly seen = new Map<string, number[]>();

  constructor(
    private readonly limits: Readonly<Record<string, MethodRateLimit>>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the call and returns undefined when allowed, or the seconds to wait (Retry-After) when not. */
  take(method: string): number | undefined {
    const limit = this.limits[method];
    if (!limit) return undefined;
    const now = this.now();
    const recent = (this.seen.get(method) ?? []).filter((t) => t > now - 1000);
    if (recent.length >= limit.perSecond) {
      this.seen.set(method, recent);
      return Math.max(1, Math.ceil((recent[0]! + 1000 - now) / 1000));
    }
    recent.push(now);
    this.seen.set(method, recent);
    return undefined;
  }
}
