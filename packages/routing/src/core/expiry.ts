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
 * acknowledged incidents never expire, nor does a templated pager alias while an incident linked to it is open (its
 * pager alert's actions must reach it, and its resolve must not close the alert on the others). Null: never.
 */
export function expiresAt(state: RouterState, retentionMs: number): number | null {
  if (isIncidentState(state)) {
    if (state.status !== 'resolved' || state.resolvedAt === undefined) return null;
    return Date.parse(state.resolvedAt) + retentionMs;
  }
  if (state.kind === 'pager-alias' && state.links.some(isOpenLink)) return null;
  return Date.parse(state.at) + retentionMs;
}

/**
 * A link whose incident is still open: every resolve of it marks it (see pager-links.ts), but for links an older
 * alertbus kept (no linkedAt), which expire as they did.
 */
const isOpenLink = (l: { resolved?: true; linkedAt?: string }) => l.resolved !== true && l.linkedAt !== undefined;

/** The state as a decision at `atMs` sees it: absent once expired, so evicting it later changes nothing. */
export function liveState<S extends RouterState>(state: S | undefined, atMs: number, retentionMs: number | undefined): S | undefined {
  if (state === undefined || retentionMs === undefined) return state;
  const at = expiresAt(state, retentionMs);
  return at !== null && at <= atMs ? undefined : state;
}

/**
 * Keys in the order their states expire (a binary min-heap). Entries are not removed when a state changes:
 * whoever pops one checks that the key's current state is still due. Held as two arrays side by side, the times
 * as unboxed doubles: an object and a boxed number per entry cost a million resolved incidents 48 MB more.
 */
export class ExpiryQueue {
  private readonly ats: number[] = [];
  private readonly keys: string[] = [];

  get size(): number {
    return this.ats.length;
  }

  push(key: string, at: number): void {
    this.ats.push(at);
    this.keys.push(key);
    let i = this.ats.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.ats[parent]! <= this.ats[i]!) break;
      this.swap(parent, i);
      i = parent;
    }
  }

  /** Removes and returns the keys due at or before `atMs`. */
  popDue(atMs: number): string[] {
    const out: string[] = [];
    const { ats, keys } = this;
    while (ats.length > 0 && ats[0]! <= atMs) {
      out.push(keys[0]!);
      const lastAt = ats.pop()!;
      const lastKey = keys.pop()!;
      if (ats.length === 0) break;
      ats[0] = lastAt;
      keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < ats.length && ats[l]! < ats[m]!) m = l;
        if (r < ats.length && ats[r]! < ats[m]!) m = r;
        if (m === i) break;
        this.swap(m, i);
        i = m;
      }
    }
    return out;
  }

  private swap(i: number, j: number): void {
    const { ats, keys } = this;
    const at = ats[i]!;
    ats[i] = ats[j]!;
    ats[j] = at;
    const key = keys[i]!;
    keys[i] = keys[j]!;
    keys[j] = key;
  }
}
