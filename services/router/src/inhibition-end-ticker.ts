import { newId } from '@alertbus/schemas';
import { inhibitionEndTick } from '@alertbus/routing';
import { Ticker, type DueTicks, type TickerOptions } from './ticker';

/** How often the ticker looks for firings kept while inhibited that nothing inhibits any more (default): a page at most this late. */
export const INHIBITION_END_TICK_INTERVAL_MS = 5_000;

export interface InhibitionEndTickerOptions extends TickerOptions {
  /** The firings kept while inhibited, on partitions this instance holds, that nothing inhibits at `nowMs` (RouterProcessor.inhibitedFiringsFreed). */
  freed(nowMs: number): Array<{ alias: string; inhibitedBy: string; inputId: string }>;
  /**
   * Waits until the other instances' facts written so far are read (router.shared.v1), when this instance does not hold
   * every partition; false when it could not. An inhibitor another instance holds, not read yet (after a start), looks
   * gone, and its tick, marked written, would page.
   */
  catchUp?: () => Promise<boolean>;
  /** How often it looks (default INHIBITION_END_TICK_INTERVAL_MS). */
  intervalMs?: number;
}

/**
 * Writes the InhibitionEndedTick (router.ticks.v1) that pages for a firing an inhibit rule muted while its alias had no
 * open incident, once nothing inhibits it: its inhibitor resolved, expired, or changed so that it no longer matches.
 * Without it, the alert paged only at its sender's next notification (Alertmanager's repeat_interval, 4 h by default),
 * where Alertmanager itself notifies at the group's next flush. The decider never reads the clock, so the end reaches
 * it as a recorded input, stamped with this instance's wall clock. Every `intervalMs` it asks the processor for the
 * kept firings, on partitions this instance holds, that nothing inhibits now, and writes one tick per alias, keyed by
 * the alias: the instance holding its partition (this one) decides it again, in order with the alias's alerts, and an
 * inhibitor found at the tick's time mutes it again. One per kept firing (its inputId) while this instance runs; after a
 * restart or a rebalance the next holder finds the kept firings in its restored state. A tick that could not be written
 * is written at the next look: a page late, never one lost.
 */
export class InhibitionEndTicker extends Ticker {
  /** By alias: the kept firing (input id and inhibitor) a tick was written for. */
  private readonly ticked = new Map<string, string>();

  constructor(private readonly opts: InhibitionEndTickerOptions) {
    super(opts, opts.intervalMs ?? INHIBITION_END_TICK_INTERVAL_MS, 'inhibition-end');
  }

  protected async due(): Promise<DueTicks | undefined> {
    if (this.opts.freed(this.now()).length === 0) {
      this.ticked.clear();
      return undefined;
    }
    if (this.opts.catchUp && !(await this.opts.catchUp())) return undefined;
    const now = this.now();
    const freed = this.opts.freed(now);
    const current = new Map(freed.map((e) => [e.alias, `${e.inputId}/${e.inhibitedBy}`]));
    // Bounded by the kept firings: an alias decided since (opened, inhibited again, resolved, expired) is forgotten.
    for (const [alias, mark] of this.ticked) if (current.get(alias) !== mark) this.ticked.delete(alias);
    const due = freed.filter((e) => !this.ticked.has(e.alias));
    if (due.length === 0) return undefined;
    const recordedAt = new Date(now).toISOString();
    return {
      ticks: due.map((e) => inhibitionEndTick(e.alias, e.inhibitedBy, recordedAt, newId())),
      written: () => {
        for (const e of due) this.ticked.set(e.alias, current.get(e.alias)!);
      },
      logged: { recordedAt },
    };
  }
}
