import { newId, TOPICS } from '@alertbus/schemas';
import { partitionOfKey } from '@alertbus/kafka';
import { STORM_SUMMARY_INTERVAL_MS, stormTick, type TickedStorm } from '@alertbus/routing';
import { Ticker, type DueTicks, type TickerOptions } from './ticker';

export interface StormTickerOptions extends TickerOptions {
  /** The stale storms whose summary key is on a partition this instance holds (RouterProcessor.staleStorms). */
  staleStorms(partitionOf: (key: string) => number | undefined): Array<{ key: string; storm: TickedStorm; change: string; lastChangeMs: number }>;
  /** How often it looks, and how long a storm must have been quiet (default STORM_SUMMARY_INTERVAL_MS). */
  intervalMs?: number;
}

/**
 * Writes the ticks (router.ticks.v1) that let a quiet storm's summary show its last changes: the decider never reads
 * the clock, so time reaches it as a recorded input. Every `intervalMs` it asks the processor for the storms whose
 * summary key is on a partition this instance holds and whose summary may lack changes; a storm found so twice in a
 * row with the same latest change (quiet for at least `intervalMs`), and whose latest change is in an earlier slot than
 * the wall clock's (a clock behind the inputs' times waits), gets one tick stamped with the wall clock, keyed by its
 * summary key, so the instance holding that partition, this one, decides it. One per change: once written, the tick is
 * a durable input, decided by whoever holds its partition. Only the key's holder writes its ticks, and after a restart
 * or a rebalance the next holder finds the stale storms in its restored state and index; a tick too many (written again
 * by the next holder, or during a rebalance) finds nothing stale and changes nothing. A tick that could not be written
 * is written at the next look: a summary updated late, never a decision lost.
 */
export class StormTicker extends Ticker {
  /** By summary key: the partition (looked up once; the ticks topic's partitions never change under a running router). */
  private readonly partitions = new Map<string, number>();
  private readonly lookingUp = new Set<string>();
  /** By summary key: the change last seen, since when (wall clock), and whether a tick was written for it. */
  private readonly seen = new Map<string, { change: string; sinceMs: number; ticked?: boolean }>();

  constructor(private readonly opts: StormTickerOptions) {
    super(opts, opts.intervalMs ?? STORM_SUMMARY_INTERVAL_MS, 'storm');
  }

  protected due(): DueTicks | undefined {
    const now = this.now();
    const stale = this.opts.staleStorms((key) => this.partitionOf(key));
    const keys = new Set(stale.map((s) => s.key));
    for (const key of this.seen.keys()) if (!keys.has(key)) this.seen.delete(key);
    const due: TickedStorm[] = [];
    const marks: Array<{ ticked?: boolean }> = [];
    for (const { key, storm, change, lastChangeMs } of stale) {
      const seen = this.seen.get(key);
      if (!seen || seen.change !== change) {
        this.seen.set(key, { change, sinceMs: now });
        continue;
      }
      if (seen.ticked || now - seen.sinceMs < this.intervalMs) continue;
      if (Math.floor(now / STORM_SUMMARY_INTERVAL_MS) <= Math.floor(lastChangeMs / STORM_SUMMARY_INTERVAL_MS)) continue;
      due.push(storm);
      marks.push(seen);
    }
    if (due.length === 0) return undefined;
    const recordedAt = new Date(now).toISOString();
    return {
      ticks: due.map((storm) => stormTick(storm, recordedAt, newId())),
      written: () => {
        for (const m of marks) m.ticked = true;
      },
      logged: { storms: due.map((s) => s.summaryIncidentId), recordedAt },
    };
  }

  private partitionOf(key: string): number | undefined {
    const known = this.partitions.get(key);
    if (known !== undefined || this.lookingUp.has(key)) return known;
    // One entry per storm ever seen: bounded all the same.
    if (this.partitions.size >= 10_000) this.partitions.clear();
    this.lookingUp.add(key);
    partitionOfKey(this.opts.kafka, TOPICS.routerTicks, key)
      .then((p) => this.partitions.set(key, p))
      .catch((err: Error) => this.opts.log.warn({ err, key }, 'could not look up the partition of a storm summary key'))
      .finally(() => this.lookingUp.delete(key));
    return undefined;
  }
}
