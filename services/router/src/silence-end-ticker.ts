import { newId } from '@alertbus/schemas';
import { silenceEndTick, type SilenceLookup } from '@alertbus/routing';
import { KeptFiringTicker, type TickerOptions } from './ticker';

/** How often the ticker looks for firings kept under a silence that ended (default): a page at most this late. */
export const SILENCE_END_TICK_INTERVAL_MS = 5_000;

export interface SilenceEndTickerOptions extends TickerOptions {
  /** The silences as the instance knows them (the SilenceFollower's book). */
  silences: SilenceLookup;
  /** The firings kept under a silence ended by `nowMs`, on partitions this instance holds (RouterProcessor.silencedFiringsEnded). */
  ended(silences: SilenceLookup, nowMs: number): Array<{ alias: string; silenceId: string; inputId: string }>;
  /**
   * Waits until every silence written so far is read (SilenceFollower.catchUp); false when it could not. Looked at
   * before a tick is written: a silence not read yet (after a start) looks ended, and its tick, marked written, would
   * decide nothing and never be written again.
   */
  catchUp?: () => Promise<boolean>;
  /** How often it looks (default SILENCE_END_TICK_INTERVAL_MS). */
  intervalMs?: number;
}

/**
 * Writes the SilenceEndedTick (router.ticks.v1) that pages for a firing kept under a silence once that silence has
 * ended: by its endsAt, or early by a SilenceExpired (`/alertbus unsilence`, the history API). The decider never reads
 * the clock, so the end reaches it as a recorded input, stamped with this instance's wall clock. Every `intervalMs` it
 * asks the processor for the kept firings, on partitions this instance holds, whose silence had ended by now, and
 * writes one tick per alias, keyed by the alias: the instance holding its partition (this one) decides it, in order
 * with the alias's alerts. One per kept firing (its inputId) and silence while this instance runs; after a restart or
 * a rebalance the next holder finds the kept firings in its restored state and writes them again. A tick too many (a
 * redelivery, two holders during a rebalance) finds the alias opened, kept under another silence or kept as
 * inhibited, and decides nothing. A tick that could not be written is written at the next look: a page late, never
 * one lost.
 */
export class SilenceEndTicker extends KeptFiringTicker<{ alias: string; silenceId: string; mark: string }> {
  constructor(private readonly opts: SilenceEndTickerOptions) {
    super(opts, opts.intervalMs ?? SILENCE_END_TICK_INTERVAL_MS, 'silence-end');
  }

  protected found(nowMs: number) {
    return this.opts.ended(this.opts.silences, nowMs).map((e) => ({ alias: e.alias, silenceId: e.silenceId, mark: `${e.inputId}/${e.silenceId}` }));
  }

  protected tick(f: { alias: string; silenceId: string }, recordedAt: string) {
    return silenceEndTick(f.alias, f.silenceId, recordedAt, newId());
  }

  protected override catchUp(): Promise<boolean> {
    return this.opts.catchUp ? this.opts.catchUp() : Promise.resolve(true);
  }
}
