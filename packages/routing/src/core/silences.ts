import type { Envelope, SilenceCreated } from '@alertbus/schemas';
import { matchesAll, parseMatcher, type Matcher } from '@alertbus/schemas';

/** One silence as the router knows it: what it matches, when it applies, and when the router learnt of it. */
export interface SilenceRecord {
  readonly silenceId: string;
  readonly data: SilenceCreated;
  /** Null when a matcher does not parse: such a silence silences nothing (history refuses them anyway). */
  readonly matchers: readonly Matcher[] | null;
  /** recordedAt of SilenceCreated: the silence exists for inputs recorded from then on. */
  readonly createdAtMs: number;
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  /** From SilenceExpired: it stops applying to inputs recorded at or after both of these. */
  readonly expiry?: { readonly recordedAtMs: number; readonly expiredAtMs: number; readonly by: string };
}

export type SilenceEvent = Envelope<'SilenceCreated'> | Envelope<'SilenceExpired'>;

/** What the decider asks: is an input with these labels, recorded at this time, silenced, and by what? */
export interface SilenceLookup {
  find(labels: Readonly<Record<string, string>>, atMs: number): SilenceRecord | undefined;
  /** The silence of this id, if the router knows it (so `/alertbus unsilence` can say a mistyped id ends nothing). */
  get?(silenceId: string): SilenceRecord | undefined;
}

/** Whether the silence applies to an input recorded at `atMs` (event time, never the clock). */
export function inForce(s: SilenceRecord, atMs: number): boolean {
  if (s.createdAtMs > atMs) return false;
  if (atMs < s.startsAtMs || atMs >= s.endsAtMs) return false;
  if (s.expiry && s.expiry.recordedAtMs <= atMs && s.expiry.expiredAtMs <= atMs) return false;
  return true;
}

/**
 * Whether the silence no longer applies to an input recorded at or after `atMs`: its endsAt passed, or a SilenceExpired
 * ended it early; also a silence not known (any more: forgotten once ended). What the router's ticker asks of the
 * silence a kept firing names before it writes the SilenceEndedTick that decides the firing again.
 */
export function silenceEnded(s: SilenceRecord | undefined, atMs: number): boolean {
  if (s === undefined) return true;
  if (atMs >= s.endsAtMs) return true;
  return s.expiry !== undefined && s.expiry.recordedAtMs <= atMs && s.expiry.expiredAtMs <= atMs;
}

/**
 * Every silence from silences.v1, folded in topic order. Decisions only depend on the silences' own times
 * compared with the input's recordedAt, so learning of a silence late (or replaying) changes nothing for
 * inputs recorded before it was created. The first SilenceCreated of an id wins, as in history.
 */
export class SilenceBook implements SilenceLookup {
  private readonly byId = new Map<string, SilenceRecord>();
  /** Expiries seen before their silence (not expected on a one-partition topic, but harmless). */
  private readonly earlyExpiry = new Map<string, SilenceRecord['expiry']>();

  get size(): number {
    return this.byId.size;
  }

  all(): SilenceRecord[] {
    return [...this.byId.values()];
  }

  apply(event: SilenceEvent): void {
    if (event.type === 'SilenceCreated') {
      const d = event.data;
      if (this.byId.has(d.silenceId)) return;
      const parsed = d.matchers.map(parseMatcher);
      const expiry = this.earlyExpiry.get(d.silenceId);
      this.earlyExpiry.delete(d.silenceId);
      this.byId.set(d.silenceId, {
        silenceId: d.silenceId,
        data: d,
        matchers: parsed.every((p) => p.ok) ? parsed.map((p) => (p as { matcher: Matcher }).matcher) : null,
        createdAtMs: Date.parse(event.recordedAt),
        startsAtMs: Date.parse(d.startsAt),
        endsAtMs: Date.parse(d.endsAt),
        ...(expiry ? { expiry } : {}),
      });
      return;
    }
    const d = event.data;
    const expiry = { recordedAtMs: Date.parse(event.recordedAt), expiredAtMs: Date.parse(d.expiredAt), by: d.expiredBy };
    const s = this.byId.get(d.silenceId);
    if (!s) {
      this.earlyExpiry.set(d.silenceId, expiry);
      return;
    }
    if (s.expiry) return;
    this.byId.set(d.silenceId, { ...s, expiry });
  }

  /**
   * Forgets the silences in force for no input recorded at or after `beforeMs` (ended, or expired, before
   * it); returns how many. The router prunes with the newest input's time less a grace.
   */
  prune(beforeMs: number): number {
    let pruned = 0;
    for (const [id, s] of this.byId) {
      const until = s.expiry ? Math.min(s.endsAtMs, Math.max(s.expiry.recordedAtMs, s.expiry.expiredAtMs)) : s.endsAtMs;
      if (until <= beforeMs) {
        this.byId.delete(id);
        pruned += 1;
      }
    }
    for (const [id, e] of this.earlyExpiry) if (e && Math.max(e.recordedAtMs, e.expiredAtMs) <= beforeMs) this.earlyExpiry.delete(id);
    return pruned;
  }

  /** The silence in force for these labels at this time: the earliest created one when several are. */
  get(silenceId: string): SilenceRecord | undefined {
    return this.byId.get(silenceId);
  }

  find(labels: Readonly<Record<string, string>>, atMs: number): SilenceRecord | undefined {
    let best: SilenceRecord | undefined;
    for (const s of this.byId.values()) {
      if (!s.matchers || !inForce(s, atMs) || !matchesAll(s.matchers, labels)) continue;
      if (!best || s.createdAtMs < best.createdAtMs || (s.createdAtMs === best.createdAtMs && s.silenceId < best.silenceId)) best = s;
    }
    return best;
  }
}
