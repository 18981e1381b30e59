import { DeliveryError } from '@alertbus/common';

/**
 * Slack limits each Web API method per app per workspace, so after one call's 429 every other call to that method in
 * the workspace would get one too, and count against the limit: those calls are not made before the Retry-After is
 * over. (chat.postMessage's per-channel limit answers the same 429, with nothing that tells it from the workspace's,
 * so a held method is held for every channel.) Other methods go on.
 */
export class RateGate {
  /** The time before which a method is not called, by method; an entry goes once its time has passed. */
  private readonly notBefore = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Throws, without calling Slack, the rate-limit error the call would get, with the wait left as its Retry-After,
   * while `method` is held; returns otherwise.
   */
  check(method: string): void {
    const until = this.notBefore.get(method);
    if (until === undefined) return;
    const left = until - this.now();
    if (left <= 0) {
      this.notBefore.delete(method);
      return;
    }
    throw new DeliveryError(
      `Slack rate limited ${method} (retry after ${Math.ceil(left / 1000)} s): not called again before then`,
      false,
      429,
      left,
    );
  }

  /** Holds `method` until the Retry-After of the 429 it was answered is over; any other error changes nothing. */
  note(method: string, err: unknown): void {
    if (!(err instanceof DeliveryError) || err.httpStatus !== 429 || err.retryAfterMs === undefined || !(err.retryAfterMs > 0)) return;
    const now = this.now();
    for (const [m, until] of this.notBefore) if (until <= now) this.notBefore.delete(m);
    const until = now + err.retryAfterMs;
    if (until > (this.notBefore.get(method) ?? Number.NEGATIVE_INFINITY)) this.notBefore.set(method, until);
  }

  /** Entries kept: the methods held, and any whose time has passed but that were not dropped yet. */
  get size(): number {
    return this.notBefore.size;
  }
}
