import { randomUUID } from 'node:crypto';
import { ConsumeLoop, TopicEnds, type ConsumedRecord, type ConsumeLoopMetrics, type createKafka, type TopicEnd } from '@alertbus/kafka';
import type { InfraRetryPolicy } from '@alertbus/common';
import type { Logger } from 'pino';

type Kafka = ReturnType<typeof createKafka>;

export interface TopicFollowerOptions {
  kafka: Kafka;
  log: Logger;
  topic: string;
  /** Names the follower in its group id and its problem(). */
  name: string;
  groupPrefix: string;
  /** Committed records of one partition, in offset order. */
  onRecords: (records: ConsumedRecord[]) => void;
  retry?: InfraRetryPolicy;
  loopMetrics?: ConsumeLoopMetrics;
  /**
   * Asked as each fetch starts: true while nothing read is needed at once (no catch-up will wait for it), so the broker
   * may hold the fetch for the linger and answer with what gathered meanwhile (up to FOLLOWER_GATHER_BYTES) instead of
   * answering each record (each commit) as it comes.
   */
  gather?: () => boolean;
}

/** How long the broker holds a follower's fetch when nothing new is there (or, gathering, until this much is). */
export const FOLLOWER_LINGER_MS = 1_000;

/** A gathering follower's fetch is answered once this many bytes are readable, else after the linger. */
export const FOLLOWER_GATHER_BYTES = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads a topic from the beginning and keeps following it, outside any transaction, with `read_committed`:
 * what every router instance needs all of (silences, the instances' shared incident facts). Not part of the
 * router's consumer group: a group of its own per process, never committed, deleted on stop. Runs on the
 * shared consume loop, so a broker outage pauses it and it picks up where it was.
 */
export class TopicFollower {
  private readonly groupId: string;
  private readonly loop: ConsumeLoop;
  /** The topic's end, looked up in one round trip (see TopicEnds). */
  private readonly ends: TopicEnds;
  /** Next offset to read, per partition (transaction markers included: the consume loop reports their end). */
  private readonly positions = new Map<number, bigint>();
  private started = false;
  /** The latest end lookup (see endsSince). */
  private lookup: { startedAt: number; ends: Promise<TopicEnd[]> } | null = null;

  constructor(private readonly opts: TopicFollowerOptions) {
    this.groupId = `${opts.groupPrefix}.${opts.name}.${randomUUID()}`;
    this.ends = new TopicEnds(opts.kafka);
    this.loop = new ConsumeLoop({
      kafka: opts.kafka,
      groupId: this.groupId,
      topics: [opts.topic],
      log: opts.log,
      commit: 'none',
      retry: opts.retry,
      metrics: opts.loopMetrics,
      // The broker answers a fetch as soon as a record (or a commit) arrives, so the linger only paces the empty fetches of
      // an idle topic (10 a second each at the loop's 100 ms); a group of one member needs no quick heartbeat either.
      consumer: {
        sessionTimeout: 30_000,
        readUncommitted: false,
        maxWaitTimeInMs: FOLLOWER_LINGER_MS,
        heartbeatInterval: 5_000,
        ...(opts.gather ? { minBytesNow: () => (opts.gather!() ? FOLLOWER_GATHER_BYTES : 1) } : {}),
      },
      onPosition: (_topic, partition, next) => this.advance(partition, BigInt(next)),
      handleBatch: async (batch) => {
        if (batch.records.length > 0) opts.onRecords(batch.records);
      },
    });
  }

  private advance(partition: number, next: bigint): void {
    if (next > (this.positions.get(partition) ?? 0n)) this.positions.set(partition, next);
  }

  /**
   * The topic's ends, looked up at `sinceMs` or later: a lookup already started then (by another batch) is
   * shared, so the batches of one fetch cost one lookup between them, not one each.
   */
  private endsSince(sinceMs: number): Promise<TopicEnd[]> {
    const last = this.lookup;
    if (last && last.startedAt >= sinceMs) return last.ends;
    const entry = { startedAt: Date.now(), ends: this.ends.latest(this.opts.topic) };
    this.lookup = entry;
    entry.ends.catch(() => {
      if (this.lookup === entry) this.lookup = null;
    });
    return entry.ends;
  }

  /**
   * Starts the end look-up a `catchUp(…, sinceMs)` would make, without waiting for it: a batch's look-up overlaps
   * its wait for its turn, and its catch-up then finds it done (or under way).
   */
  lookAhead(sinceMs: number): void {
    if (!this.started || this.loop.problem() !== null) return;
    this.endsSince(sinceMs).catch(() => undefined);
  }

  /** The next offset not yet read on `partition`. */
  position(partition: number): bigint {
    return this.positions.get(partition) ?? 0n;
  }

  /** Null while following the topic, else why not (the router is not ready then). */
  problem(): string | null {
    const p = this.loop.problem();
    return p === null ? null : `${this.opts.name} reader: ${p}`;
  }

  async start(): Promise<void> {
    await this.ends.connect();
    await this.loop.start();
    this.started = true;
  }

  /**
   * Waits until every record written before `sinceMs` (default: this call) has been read (the topic's end looked
   * up then or later; on a transactional topic that includes transactions still open, so this also waits for them to
   * settle). Returns false when that took longer than `timeoutMs`; the caller decides with what it has.
   */
  async catchUp(timeoutMs: number, sinceMs?: number): Promise<boolean> {
    if (!this.started || this.loop.problem() !== null) return false;
    const deadline = Date.now() + timeoutMs;
    let behind = (await this.endsSince(sinceMs ?? Date.now())).filter((e) => this.position(e.partition) < BigInt(e.high));
    if (behind.length === 0) return true;
    // Only when there is something to read: a partition whose records up to that end are gone (retention) has none.
    const lows = new Map((await this.ends.withLow(this.opts.topic)).map((e) => [e.partition, BigInt(e.low)]));
    behind = behind.filter((e) => BigInt(e.high) > (lows.get(e.partition) ?? 0n));
    for (;;) {
      if (behind.every((e) => this.position(e.partition) >= BigInt(e.high))) return true;
      if (Date.now() >= deadline) return false;
      await sleep(10);
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.loop.stop();
    await this.ends.admin.deleteGroups([this.groupId]).catch(() => undefined);
    await this.ends.disconnect().catch(() => undefined);
  }
}
