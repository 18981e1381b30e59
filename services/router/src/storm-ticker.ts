import { newId, TOPICS } from '@alertbus/schemas';
import { EventProducer, partitionOfKey, type createKafka } from '@alertbus/kafka';
import { STORM_SUMMARY_INTERVAL_MS, stormTick, type TickedStorm } from '@alertbus/routing';
import type { Logger } from 'pino';

export interface StormTickerOptions {
  kafka: ReturnType<typeof createKafka>;
  log: Logger;
  /** The stale storms whose summary key is on a partition this instance holds (RouterProcessor.staleStorms). */
  staleStorms(partitionOf: (key: string) => number | undefined): Array<{ key: string; storm: TickedStorm; change: string; lastChangeMs: number }>;
  /** Counts the ticks written. */
  onTicks?: (n: number) => void;
  /** How often it looks, and how long a storm must have been quiet (default STORM_SUMMARY_INTERVAL_MS). */
  intervalMs?: number;
  /** The wall clock: the time a tick records (tests may pass another). */
  now?: () => number;
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
 * by the next holder, or during a rebalance) finds nothing stale and changes nothing.
 */
export class StormTicker {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly producer: EventProducer;
  private timer: NodeJS.Timeout | undefined;
  private connected = false;
  private sweeping = false;
  /** By summary key: the partition (looked up once; the ticks topic's partitions never change under a running router). */
  private readonly partitions = new Map<string, number>();
  private readonly lookingUp = new Set<string>();
  /** By summary key: the change last seen, since when (wall clock), and whether a tick was written for it. */
  private readonly seen = new Map<string, { change: string; sinceMs: number; ticked?: boolean }>();

  constructor(private readonly opts: StormTickerOptions) {
    this.intervalMs = opts.intervalMs ?? STORM_SUMMARY_INTERVAL_MS;
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
    // A sweep's send waits for Kafka however long it is away: stop waits for it a little, then disconnects under it.
    for (let waited = 0; this.sweeping && waited < 5_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
    this.connected = false;
  }

  /** One look: writes the ticks that are due. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
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
      if (due.length === 0) return;
      if (!this.connected) {
        await this.producer.connect();
        this.connected = true;
      }
      const recordedAt = new Date(now).toISOString();
      await this.producer.send(due.map((storm) => stormTick(storm, recordedAt, newId())));
      for (const m of marks) m.ticked = true;
      this.opts.onTicks?.(due.length);
      this.opts.log.debug({ storms: due.map((s) => s.summaryIncidentId), recordedAt }, 'storm ticks written');
    } catch (err) {
      // Written again at the next look: a tick late is a summary updated late, never a decision lost.
      this.opts.log.warn({ err }, 'could not write storm ticks');
    } finally {
      this.sweeping = false;
    }
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
