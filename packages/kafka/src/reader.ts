/**
 * Reads chosen partitions between two offsets, outside any service's consumer group: for rebuilding a
 * projection from the log, for audits and for replays over a time window.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Kafka, type PartitionMetadata } from 'kafkajs';
import type { Logger } from 'pino';
import { createLogger, isInfrastructureError, type InfraRetryPolicy } from '@alertbus/common';
import { ConsumeLoop } from './consume-loop';
import type { ConsumedRecord } from './records';

/** The half-open offset range [from, to) of one partition. */
export interface OffsetRange {
  topic: string;
  partition: number;
  from: string;
  to: string;
}

export interface ReadBatch {
  topic: string;
  partition: number;
  /** Committed data records only (no transaction markers, nothing aborted), in offset order, within the range. */
  records: ConsumedRecord[];
  heartbeat(): Promise<void>;
}

export interface ReadProgress {
  /** Offsets covered so far, summed over all ranges (transaction markers count: they occupy offsets). */
  covered: bigint;
  /** Sum of all ranges' lengths. */
  total: bigint;
  records: number;
  partitionsDone: number;
  partitions: number;
}

export interface ReadRangesOptions {
  kafka: Kafka;
  ranges: readonly OffsetRange[];
  onBatch: (batch: ReadBatch) => Promise<void> | void;
  onProgress?: (progress: ReadProgress) => void;
  /**
   * Ends a partition's range early, at the first record for which it is true (that record excluded): e.g.
   * the first record written after a time window.
   */
  stopAt?: (record: ConsumedRecord) => boolean;
  log?: Logger;
  /** Give up when no partition moved for this long (e.g. a transaction left open); default 120 s. */
  stallTimeoutMs?: number;
  /** Back-off while onBatch fails with an infrastructure error (Postgres down during a rebuild). */
  retry?: InfraRetryPolicy;
  /** Most bytes one fetch takes of one partition (KafkaJS' default 1 MiB): the largest batch onBatch gets. */
  maxBytesPerPartition?: number;
}

const rangeKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const big = (v: string) => BigInt(v);

/**
 * Hands every committed record in the ranges to `onBatch`, one partition's fetch at a time, and returns when
 * every range is covered. A range ends at its `to` even when the offsets just before it hold transaction
 * markers or aborted records, which are never handed out: the position, not the last record, decides.
 * When onBatch fails with an infrastructure error (isInfrastructureError), the same records are handed over
 * again after a back-off; any other failure ends the read with that error.
 */
export async function readRanges(opts: ReadRangesOptions): Promise<ReadProgress> {
  const pending = new Map<string, { topic: string; partition: number; from: string; to: string; position: bigint }>();
  const progress: ReadProgress = { covered: 0n, total: 0n, records: 0, partitionsDone: 0, partitions: opts.ranges.length };
  for (const r of opts.ranges) {
    const length = big(r.to) - big(r.from);
    progress.total += length > 0n ? length : 0n;
    if (length > 0n) pending.set(rangeKey(r.topic, r.partition), { ...r, position: big(r.from) });
    else progress.partitionsDone += 1;
  }
  if (pending.size === 0) return progress;

  const topics = [...new Set([...pending.values()].map((r) => r.topic))];
  const groupId = `alertbus-reader-${randomUUID()}`;
  const log = opts.log ?? createLogger('alertbus-reader', 'silent');
  const stallTimeoutMs = opts.stallTimeoutMs ?? 120_000;
  let lastMove = Date.now();
  let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  finished.catch(() => undefined);

  /** Moves a partition's position (records handed out or markers skipped) and finishes it at the range end. */
  const advance = (topic: string, partition: number, next: bigint) => {
    const r = pending.get(rangeKey(topic, partition));
    if (!r || next <= r.position) return;
    const capped = next > big(r.to) ? big(r.to) : next;
    progress.covered += capped - r.position;
    r.position = capped;
    lastMove = Date.now();
    if (capped >= big(r.to)) {
      pending.delete(rangeKey(topic, partition));
      progress.partitionsDone += 1;
      loop.park(topic, partition);
    }
    opts.onProgress?.(progress);
    if (pending.size === 0) settle!.resolve();
  };

  const loop: ConsumeLoop = new ConsumeLoop({
    kafka: opts.kafka,
    groupId,
    topics,
    log,
    commit: 'none',
    retry: opts.retry,
    consumer: {
      sessionTimeout: 30_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      // A reader stops once at its ends, after the fetch in flight: a longer idle wait would only delay that.
      idleMaxWaitTimeInMs: 100,
      ...(opts.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: opts.maxBytesPerPartition } : {}),
    },
    positionOf: async (topic, partition) => pending.get(rangeKey(topic, partition))?.position.toString() ?? 'park',
    // The position moves with the batches handed out, and past batches made only of markers or aborted records.
    onPosition: (topic, partition, next) => advance(topic, partition, big(next)),
    retryable: (err) => {
      if (!isInfrastructureError(err)) return false;
      lastMove = Date.now(); // waiting out an outage is not a stall
      return true;
    },
    onFatal: (err) => settle!.reject(err),
    onHalt: (reason) => settle!.reject(new Error(reason)),
    handleBatch: async (batch) => {
      const r = pending.get(rangeKey(batch.topic, batch.partition));
      if (!r) return;
      const from = r.position;
      const to = big(r.to);
      let records = batch.records.filter((m) => big(m.offset) >= from && big(m.offset) < to);
      const stop = opts.stopAt ? records.findIndex(opts.stopAt) : -1;
      if (stop >= 0) {
        progress.total -= to - big(records[stop]!.offset);
        r.to = records[stop]!.offset;
        records = records.slice(0, stop);
      }
      if (records.length > 0) {
        await opts.onBatch({ topic: batch.topic, partition: batch.partition, records, heartbeat: batch.heartbeat });
        progress.records += records.length;
      }
    },
  });

  const watchdog = setInterval(() => {
    if (Date.now() - lastMove < stallTimeoutMs) return;
    const stuck = [...pending.values()].map((r) => `${r.topic}[${r.partition}] at ${r.position} of ${r.to}`).join(', ');
    settle!.reject(new Error(`reading stalled for ${stallTimeoutMs} ms (an open transaction?): ${stuck}`));
  }, 1_000);

  try {
    await loop.start();
    await finished;
    return progress;
  } finally {
    clearInterval(watchdog);
    await loop.stop();
    await deleteGroup(opts.kafka, groupId, opts.log);
  }
}

async function deleteGroup(kafka: Kafka, groupId: string, log?: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteGroups([groupId]);
  } catch (err) {
    log?.debug({ err, groupId }, 'could not delete the reader group (it expires on its own)');
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** How long a topic's offsets are asked for again while the broker answers with a retriable error. */
const OFFSETS_RETRY_MS = 15_000;

/**
 * The topic's offsets. A broker that has just started or come back (a paused process, a restart) answers "not the
 * leader" for a while, until its partitions have leaders again: such retriable answers are asked again after a short
 * back-off, for up to 15 s; any other error, or one that lasts longer, is thrown.
 */
async function topicOffsets(admin: Admin, topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
  const until = Date.now() + OFFSETS_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      const retriable = (err as { retriable?: unknown }).retriable === true;
      const wait = Math.min(1_000, 100 * 2 ** (attempt - 1));
      if (!retriable || Date.now() + wait > until) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Every partition of the topics from its first offset still in the log to its current end. */
export async function wholeTopicRanges(kafka: Kafka, topics: readonly string[]): Promise<OffsetRange[]> {
  return withAdmin(kafka, async (admin) => {
    const out: OffsetRange[] = [];
    for (const topic of topics) {
      for (const o of await topicOffsets(admin, topic)) {
        out.push({ topic, partition: o.partition, from: o.low, to: o.high });
      }
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  });
}

/**
 * Where a time window starts in each partition: the first offset whose timestamp is at or after `fromMs`
 * (alertbus sets record timestamps to the events' recordedAt), up to the partition's current end. The end of
 * the window is found while reading (`stopAt`), not by a second lookup: transaction markers carry the time
 * they were committed, so a lookup by the end time can land on a marker that precedes records of the window.
 */
export async function timeWindowRanges(kafka: Kafka, topic: string, fromMs: number): Promise<OffsetRange[]> {
  return withAdmin(kafka, async (admin) => {
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, fromMs);
    const ends = new Map((await admin.fetchTopicOffsets(topic)).map((e) => [e.partition, e.high]));
    return starts
      .map((s) => ({ topic, partition: s.partition, from: s.offset, to: ends.get(s.partition) ?? s.offset }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/** Every partition's current end, for pinning what a later read covers. */
export async function topicEnds(kafka: Kafka, topics: readonly string[]): Promise<Map<string, Map<number, string>>> {
  return withAdmin(kafka, async (admin) => {
    const out = new Map<string, Map<number, string>>();
    for (const topic of topics) out.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high])));
    return out;
  });
}

/** The partition the producers' default partitioner (murmur2, as the Java client) puts a key in. */
export async function partitionOfKey(kafka: Kafka, topic: string, key: string): Promise<number> {
  const partitions = await withAdmin(kafka, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions ?? [];
  });
  if (partitions.length === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
  const metadata: PartitionMetadata[] = [...partitions].sort((a, b) => a.partitionId - b.partitionId);
  return Partitioners.DefaultPartitioner()({ topic, partitionMetadata: metadata, message: { key, value: null } });
}
