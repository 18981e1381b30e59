/** A message's updates are spaced this far apart by default (SLACK_UPDATE_HOLD_MS): chat.update is Tier 3, ~50 a minute. */
export const DEFAULT_SLACK_UPDATE_HOLD_MS = 1_000;

/** Entries kept before the ones older than the hold are first swept out. */
const SWEEP_ABOVE = 1_024;

/**
 * When each message's last chat.update went out, so that an update of the same message coming sooner waits out the
 * rest of the hold (a storm summary updated many times a second). In memory: a restart, or a partition moving to
 * another instance, forgets it and costs at most one update sooner.
 */
export class UpdateHold {
  private readonly last = new Map<string, number>();
  /** The size at which the next sweep runs: twice what the last one left, so sweeps cost O(1) a call amortised. */
  private sweepAt = SWEEP_ABOVE;

  constructor(
    readonly holdMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long an update of `message` should still wait: 0 when its last update is at least the hold ago. */
  remaining(message: string): number {
    const at = this.last.get(message);
    return at === undefined ? 0 : Math.max(0, at + this.holdMs - this.now());
  }

  /** An update of `message` goes out now. */
  sent(message: string): void {
    const now = this.now();
    if (this.last.size >= this.sweepAt) {
      for (const [m, at] of this.last) if (at + this.holdMs <= now) this.last.delete(m);
      this.sweepAt = Math.max(SWEEP_ABOVE, 2 * this.last.size);
    }
    this.last.set(message, now);
  }
}
