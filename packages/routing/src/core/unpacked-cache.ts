import type { PackedState } from './packed-state';

interface Held<S> {
  readonly packed: PackedState;
  readonly state: S;
  /** Read since it was kept: a second read moves it to the kept-long part. */
  read: boolean;
}

/**
 * Unpacked states of aliases read lately, valid while the alias's packed state is the one they were unpacked from.
 * Two parts: a short one for states just unpacked or just set, and a long one for states read again while in the
 * short one (the oldest members of a storm, which every summary lists). A state read once (the newest incident of a
 * channel, looked at by the next decision) leaves the short part within a few decisions, so it dies young in the
 * collector's terms instead of being kept long enough to move to the old space and leave a hole there.
 */
export class UnpackedCache<S> {
  private readonly recent = new Map<string, Held<S>>();
  private readonly kept = new Map<string, Held<S>>();

  constructor(
    private readonly recentMax = 32,
    private readonly keptMax = 256,
  ) {}

  /** The state unpacked from `packed` for `key`, when one is held. */
  get(key: string, packed: PackedState): S | undefined {
    const kept = this.kept.get(key);
    if (kept !== undefined) return kept.packed === packed ? kept.state : undefined;
    const held = this.recent.get(key);
    if (held === undefined || held.packed !== packed) return undefined;
    if (!held.read) {
      held.read = true;
      return held.state;
    }
    this.recent.delete(key);
    if (this.kept.size >= this.keptMax) this.kept.delete(this.kept.keys().next().value!);
    this.kept.set(key, held);
    return held.state;
  }

  /** Holds `state` as unpacked from `packed`; `read` when it was unpacked for a reader (else it was just set). */
  add(key: string, packed: PackedState, state: S, read: boolean): void {
    this.delete(key);
    if (this.recent.size >= this.recentMax) this.recent.delete(this.recent.keys().next().value!);
    this.recent.set(key, { packed, state, read });
  }

  delete(key: string): void {
    this.recent.delete(key);
    this.kept.delete(key);
  }
}
