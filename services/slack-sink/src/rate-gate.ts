import { DeliveryError } from '@alertbus/common';

/**
 * Slack limits each Web API method per app per workspace, so after one call's 429 every other call to that method in
 * the workspace would get one too, and count against the limit: those calls are not made before the Retry-After is
 * over. Other methods go on.
 *
 * chat.postMessage is limited per channel (about one message a second) as well as per workspace, and its 429 does not
 * say which limit it was. Its hold is for the channel answered: a storm posting into one channel does not hold the
 * first alert of another. When a second channel is answered 429 while one is held, the workspace's limit is taken to
 * be reached and the method is held for every channel, as any other method is.
 */
export class RateGate {
  /** The time before which a method (or a method in one scope, `method scope`) is not called; an entry goes once its time has passed. */
  private readonly notBefore = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Throws, without calling Slack, the rate-limit error the call would get, with the wait left as its Retry-After,
   * while `method` is held (in every scope, or in `scope`: chat.postMessage's channel); returns otherwise.
   */
  check(method: string, scope?: string): void {
    const now = this.now();
    const methodLeft = this.left(method, now);
    const left = Math.max(methodLeft, scope === undefined ? 0 : this.left(keyOf(method, scope), now));
    if (left <= 0) return;
    const where = methodLeft >= left ? '' : ` in ${scope}`;
    throw new DeliveryError(
      `Slack rate limited ${method}${where} (retry after ${Math.ceil(left / 1000)} s): not called again before then`,
      false,
      429,
      left,
    );
  }

  /**
   * Holds `method` (in `scope` alone when one is given and no other scope of the method is held) until the Retry-After
   * of the 429 it was answered is over; any other error changes nothing.
   */
  note(method: string, err: unknown, scope?: string): void {
    if (!(err instanceof DeliveryError) || err.httpStatus !== 429 || err.retryAfterMs === undefined || !(err.retryAfterMs > 0)) return;
    const now = this.now();
    for (const [k, until] of this.notBefore) if (until <= now) this.notBefore.delete(k);
    const until = now + err.retryAfterMs;
    if (scope === undefined) return this.hold(method, until);
    const prefix = keyOf(method, '');
    let otherScope: number | undefined;
    for (const [k, t] of this.notBefore) if (k.startsWith(prefix) && k !== keyOf(method, scope)) otherScope = Math.max(otherScope ?? 0, t);
    if (otherScope === undefined) return this.hold(keyOf(method, scope), until);
    // Two channels limited at once: the workspace's limit, not a channel's.
    this.hold(method, Math.max(until, otherScope));
  }

  /** Entries kept: the methods (and scopes) held, and any whose time has passed but that were not dropped yet. */
  get size(): number {
    return this.notBefore.size;
  }

  private hold(key: string, until: number): void {
    if (until > (this.notBefore.get(key) ?? Number.NEGATIVE_INFINITY)) this.notBefore.set(key, until);
  }

  private left(key: string, now: number): number {
    const until = this.notBefore.get(key);
    if (until === undefined) return 0;
    if (until <= now) {
      this.notBefore.delete(key);
      return 0;
    }
    return until - now;
  }
}

const keyOf = (method: string, scope: string) => `${method} ${scope}`;
