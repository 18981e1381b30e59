import { newId } from '@alertbus/schemas';
import { EventProducer, type createKafka } from '@alertbus/kafka';
import { silenceEndTick, type SilenceLookup } from '@alertbus/routing';
import type { Logger } from 'pino';

/** How often the ticker looks for firings kept under a silence that ended (default): a page at most this late. */
export const SILENCE_END_TICK_INTERVAL_MS = 5_000;

export interface SilenceEndTickerOptions {
  kafka: ReturnType<typeof createKafka>;
  log: Logger;
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
  /** Counts the ticks written. */
  onTicks?: (n: number) => void;
  /** How often it looks (default SILENCE_END_TICK_INTERVAL_MS). */
  intervalMs?: number;
  /** The wall clock: the time a tick records (tests may pass another). */
  now?: () => number;
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
 * nothing; one for a firing inhibited at the silence's end writes that suppression once more.
 */
export class SilenceEndTicker {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly producer: EventProducer;
  private timer: NodeJS.Timeout | undefined;
  private connected = false;
  private sweeping = false;
  /** By alias: the kept firing (input id and silence) a tick was written for. */
  private readonly ticked = new Map<string, string>();

  constructor(private readonly opts: SilenceEndTickerOptions) {
    this.intervalMs = opts.intervalMs ?? SILENCE_END_TICK_INTERVAL_MS;
    this.now = opts.now ?? Date.now;
    this.producer = new EventProducer(opts.kafka);
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (let waited = 0; this.sweeping && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
    this.connected = false;
  }

  /** One look: writes the ticks that are due. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      if (this.opts.ended(this.opts.silences, this.now()).length === 0) {
        // No firing is kept under an ended silence: every alias ticked for has been decided (or its partition moved).
        this.ticked.clear();
        return;
      }
      if (this.opts.catchUp && !(await this.opts.catchUp())) return;
      const now = this.now();
      const ended = this.opts.ended(this.opts.silences, now);
      const current = new Map(ended.map((e) => [e.alias, `${e.inputId}/${e.silenceId}`]));
      // Bounded by the kept firings: an alias decided since (opened, resolved, expired) is forgotten.
      for (const [alias, mark] of this.ticked) if (current.get(alias) !== mark) this.ticked.delete(alias);
      const due = ended.filter((e) => !this.ticked.has(e.alias));
      if (due.length === 0) return;
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      const recordedAt = new Date(now).toISOString();
      await this.producer.send(due.map((e) => silenceEndTick(e.alias, e.silenceId, recordedAt, newId())));
      for (const e of due) this.ticked.set(e.alias, current.get(e.alias)!);
      this.opts.onTicks?.(due.length);
      this.opts.log.debug({ ticks: due.length, recordedAt }, 'silence-end ticks written');
    } catch (err) {
      // Written again at the next look: a tick late is a page late, never one lost.
      this.opts.log.warn({ err }, 'could not write silence-end ticks');
    } finally {
      this.sweeping = false;
    }
  }
}
