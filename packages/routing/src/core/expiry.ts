import { isIncidentState, type RouterState } from '../state';

/** Default ROUTER_STATE_RETENTION: how long a resolved incident (or a Slack record) is remembered. */
export const DEFAULT_STATE_RETENTION_MS = 7 * 86_400_000;

/**
 * How far behind the newest input of its partition an input may be recorded and still be decided exactly as a
 * replay decides it: state is evicted only this long after it expired (by the inputs' event time).
 */
export const EVICTION_GRACE_MS = 3_600_000;

/**
 * When a state stops mattering to decisions, by event time: a resolved incident `retention` after it was
 * resolved, a Slack record (a command message, a thread link) `retention` after it was written. Open and
 * acknowledged incidents never expire. Null: never.
 */
export function expiresAt(state: RouterState, retentionMs: number): number | null {
  if (isIncidentState(state)) {
    if (state.status !== 'resolved' || state.resolvedAt === undefined) return null;
    return Date.parse(state.resolvedAt) + retentionMs;
  }
  return Date.parse(state.at) + retentionMs;
}

/** The state as a decision at `atMs` sees it: absent once expired, so evicting it later changes nothing. */
export function liveState<S extends RouterState>(state: S | undefined, atMs: number, retentionMs: number | undefined): S | undefined {
  if (state === undefined || retentionMs === undefined) return state;
  const at = expiresAt(state, retentionMs);
  return at !== null && at <= atMs ? undefined : state;
}

/**
 * Keys in the order their states expire (a binary min-heap). Entries are not removed when a state changes:
 * whoever pops one checks that the key's current state is still due.
 */
export class ExpiryQueue {
  private readonly heap: Array<{ at: number; key: string }> = [];

  get size(): number {
    return this.heap.length;
  }

  push(key: string, at: number): void {
    const h = this.heap;
    h.push({ at, key });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  /** Removes and returns the keys due at or before `atMs`. */
  popDue(atMs: number): string[] {
    const out: string[] = [];
    const h = this.heap;
    while (h.length > 0 && h[0]!.at <= atMs) {
      out.push(h[0]!.key);
      const last = h.pop()!;
      if (h.length === 0) break;
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return out;
  }
}
