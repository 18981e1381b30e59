import { newId } from '@alertbus/schemas';
import { silenceEndTick, type SilenceLookup } from '@alertbus/routing';
import { Ticker, type DueTicks, type TickerOptions } from './ticker';

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
 * redelivery, two holders during a rebalance) finds the alias opened, or kept under another silence, and decides
 * nothing; one for a firing inhibited at the silence's end writes that suppression once more. A tick that could not be
 * written is written at the next look: a page late, never one lost.
 */
export class SilenceEndTicker extends Ticker {
  /** By alias: the kept firing (input id and silence) a tick was written for. */
  private readonly ticked = new Map<string, string>();

  constructor(private readonly opts: SilenceEndTickerOptions) {
    super(opts, opts.intervalMs ?? SILENCE_END_TICK_INTERVAL_MS, 'silence-end');
  }

  protected async due(): Promise<DueTicks | undefined> {
    if (this.opts.ended(this.opts.silences, this.now()).length === 0) {
      // No firing is kept under an ended silence: every alias ticked for has been decided (or its partition moved).
      this.ticked.clear();
      return undefined;
    }
    if (this.opts.catchUp && !(await this.opts.catchUp())) return undefined;
    const now = this.now();
    const ended = this.opts.ended(this.opts.silences, now);
    const current = new Map(ended.map((e) => [e.alias, `${e.inputId}/${e.silenceId}`]));
    // Bounded by the kept firings: an alias decided since (opened, resolved, expired) is forgotten.
    for (const [alias, mark] of this.ticked) if (current.get(alias) !== mark) this.ticked.delete(alias);
    const due = ended.filter((e) => !this.ticked.has(e.alias));
    if (due.length === 0) return undefined;
    const recordedAt = new Date(now).toISOString();
    return {
      ticks: due.map((e) => silenceEndTick(e.alias, e.silenceId, recordedAt, newId())),
      written: () => {
        for (const e of due) this.ticked.set(e.alias, current.get(e.alias)!);
      },
      logged: { recordedAt },
    };
  }
}
