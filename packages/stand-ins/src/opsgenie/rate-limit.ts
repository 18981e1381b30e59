/** A token bucket per rate-limit domain, the way Opsgenie throttles ("Alert", "Schedule-oncall", …). */

export interface OpsgenieRateLimit {
  /** Requests a domain may burst to. */
  capacity: number;
  /** Tokens added back per second. */
  refillPerSec: number;
  /** Value of X-RateLimit-Period-In-Sec on a 429 (Opsgenie's throttle window); default 60. */
  periodInSec?: number;
}

export type OpsgenieRateDomain = 'alert' | 'schedule-oncall';

export class TokenBuckets {
  private readonly buckets = new Map<OpsgenieRateDomain, { tokens: number; at: number }>();

  constructor(
    readonly opts: OpsgenieRateLimit,
    private readonly nowMs: () => number,
  ) {}

  /** Takes a token; returns 0 when allowed, else the seconds until the next token. */
  take(domain: OpsgenieRateDomain): number {
    const now = this.nowMs();
    const b = this.buckets.get(domain) ?? { tokens: this.opts.capacity, at: now };
    b.tokens = Math.min(this.opts.capacity, b.tokens + ((now - b.at) / 1000) * this.opts.refillPerSec);
    b.at = now;
    this.buckets.set(domain, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    if (this.opts.refillPerSec <= 0) return this.opts.periodInSec ?? 60;
    return Math.max(1, Math.ceil((1 - b.tokens) / this.opts.refillPerSec));
  }
}
