import { newId } from '@alertbus/schemas';
import { INHIBITION_END_TICK_INTERVAL_MS, inhibitionEndTick } from '@alertbus/routing';
import { KeptFiringTicker, type TickerOptions } from './ticker';

export { INHIBITION_END_TICK_INTERVAL_MS };

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
export class InhibitionEndTicker extends KeptFiringTicker<{ alias: string; inhibitedBy: string; mark: string }> {
  constructor(private readonly opts: InhibitionEndTickerOptions) {
    super(opts, opts.intervalMs ?? INHIBITION_END_TICK_INTERVAL_MS, 'inhibition-end');
  }

  protected found(nowMs: number) {
    return this.opts.freed(nowMs).map((e) => ({ alias: e.alias, inhibitedBy: e.inhibitedBy, mark: `${e.inputId}/${e.inhibitedBy}` }));
  }

  protected tick(f: { alias: string; inhibitedBy: string }, recordedAt: string) {
    return inhibitionEndTick(f.alias, f.inhibitedBy, recordedAt, newId());
  }

  protected override catchUp(): Promise<boolean> {
    return this.opts.catchUp ? this.opts.catchUp() : Promise.resolve(true);
  }
}
