/**
 * The one consume loop of alertbus. Every consumer (the sinks, the history projector, the router's
 * transactions, its silences reader and state restore, and the range reader of audits and rebuilds) runs
 * on it, so infrastructure faults are handled in one place, one way:
 *
 * - a batch handler that throws (Kafka, Postgres, the network, or anything else) never skips a record: the
 *   partition is paused, nothing past what the handler resolved is resolved, and after a capped, jittered
 *   backoff (INFRA_RETRY_MIN/MAX_BACKOFF_MS) the partition resumes where it stopped and the records are
 *   fetched and handed over again. The other partitions go on meanwhile, and since the handler has
 *   returned, KafkaJS keeps heartbeating: the group membership survives any length of outage;
 * - a handler may also ask to come back later without an error (a delivery waiting out a Retry-After);
 * - a crash KafkaJS will not restart from (it gives up on some broker outages) is restarted here; one it does
 *   restart itself leaves no group behind until then (pausing or resuming a partition throws meanwhile), and the
 *   group it starts fetches every partition again from its committed position, so what a batch of the crashed
 *   run settles later moves no partition of the new one;
 * - a position KafkaJS moved forward by itself ("offset out of range", reset to the default offset) would
 *   skip records: the partition is halted and reported instead.
 *
 * What differs between consumers is pluggable: where a partition starts on assignment (`positionOf`), and
 * how progress is committed (`commit`): to Kafka after each batch, to Kafka as a mere hint after the handler
 * stored its own position, or not at all (a Kafka transaction commits it, or nothing needs committing).
 */
import type { Consumer, EachBatchPayload, Kafka, PartitionAssigner } from 'kafkajs';
import type { Logger } from 'pino';
import {
  Counter,
  DEFAULT_INFRA_RETRY,
  Gauge,
  infraBackoffMs,
  isInfrastructureError,
  type InfraRetryPolicy,
  type Registry,
} from '@alertbus/common';
import { chooseNextFetchWait, idleFetchWaitMs, installFetchWaitChoice } from './fetch-wait';
import { toConsumedRecord, type ConsumedRecord } from './records';

/** Where a partition resumes when it is assigned: an offset, or the earliest offset still in the log. */
export type ResumePosition = string | 'earliest';

/** One fetch's records of one partition, handed to the handler. */
export interface LoopBatch {
  topic: string;
  partition: number;
  /** The position this fetch started from. */
  fromOffset: string;
  /** Data records only (no transaction markers, nothing aborted), in offset order. */
  records: ConsumedRecord[];
  /** The offset after the batch, trailing transaction markers included. */
  nextOffset: string;
  /** The partition's end when fetched (for lag). */
  highWatermark: string;
  /**
   * When (epoch ms, this process's clock) the fetch that brought the batch had returned, or later: anything
   * written to any topic before the batch's records was written before this.
   */
  fetchedAt: number;
  heartbeat(): Promise<void>;
  /** True once the batch is moot: a seek is pending for the partition, or the loop is stopping. */
  isStale(): boolean;
  /** Records up to and including `offset` are done: a retry of this batch starts after it. */
  resolve(offset: string): void;
  /** Moves the partition to `offset`; the next fetch starts there and the rest of this batch is dropped. */
  seek(offset: string): void;
  /**
   * Moves the partition back to this batch's start (a deferred batch the loop moved past, see `proceed`, that will
   * not settle as done): the next fetch starts there, and every later batch of the partition handed over before is
   * stale. Does nothing once the consumer rejoined its group or restarted (it fetches from the committed offsets).
   */
  rewind(): void;
}

/** Done with the whole batch, or: come back to where the handler stopped in `retryInMs` (no error). */
export type SettledOutcome = void | { retryInMs: number; reason: string };

/**
 * The batch finishes later, when `done` settles: meanwhile the partition is paused (nothing after the batch is
 * fetched) and the other partitions' batches go on, so one partition's wait (a transaction's commit) does not hold
 * back the fetch that brings the others' next records. `done` settles like a handler: resolved (the batch is done,
 * or come back later), or rejected (retried from the batch's start after a back-off, as a throw is).
 */
export interface DeferredOutcome {
  deferred: Promise<SettledOutcome>;
  /**
   * Pipelining: once this resolves (before `deferred` settles), the loop moves the partition's position past the batch
   * and fetches it again, so the next batch is handed over while this one is still pending. Should `deferred` then not
   * settle as done, the partition is rewound to this batch's start (later batches handed over meanwhile become stale)
   * and fetched again from there, after the back-off of a failure. Without it the partition stays paused until
   * `deferred` settles.
   */
  proceed?: Promise<void>;
}

export type BatchOutcome = SettledOutcome | DeferredOutcome;

/**
 * kafka: commit the resolved position to Kafka after every batch (the consumer group's offset is the truth);
 * hint: commit after a batch went through, failures ignored (the handler keeps its own position);
 * none: never (a Kafka transaction commits the offsets, or the reader keeps no group position).
 */
export type CommitMode = 'kafka' | 'hint' | 'none';

export interface ConsumeLoopOptions {
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  log: Logger;
  handleBatch: (batch: LoopBatch) => Promise<BatchOutcome>;
  commit: CommitMode;
  /** Where a partition without a committed offset starts; default true (the earliest). */
  fromBeginning?: boolean;
  /**
   * Asked for every assigned partition on every assignment, before any of its records are handed over:
   * seek there, or `park` (leave it paused: nothing to read there).
   */
  positionOf?: (topic: string, partition: number) => Promise<ResumePosition | 'park'>;
  /**
   * The group is rebalancing: called (synchronously) before this member rejoins. KafkaJS waits for batch handlers
   * in progress before rejoining, but not for deferred outcomes: a handler that defers must not let work it has
   * not finished take effect for partitions that may move (see TransactionalProcessor).
   */
  onRebalancing?: () => void;
  /** The group coordinator took a heartbeat of this member: its session runs for another session timeout from here. */
  onHeartbeat?: () => void;
  /** Every group join, with the new assignment (before positionOf). */
  onAssigned?: (assignment: Record<string, number[]>) => void;
  /** The partition's position moved to `nextOffset` (after a batch, or past markers no batch showed). */
  onPosition?: (topic: string, partition: number, nextOffset: string) => void;
  /** Handler errors that are retried; the others end the loop (onFatal). Default: every error is retried. */
  retryable?: (err: unknown) => boolean;
  onFatal?: (err: Error) => void;
  /** Halt a partition whose position moves forward by itself (default true). */
  detectJumps?: boolean;
  /** A partition was halted (see detectJumps), with the reason. */
  onHalt?: (reason: string) => void;
  /** Appended to a halted partition's reason: what an operator can do about it. */
  haltAdvice?: string;
  retry?: InfraRetryPolicy;
  metrics?: ConsumeLoopMetrics;
  /**
   * commit 'kafka' or 'hint': instead of one OffsetCommit after every batch, awaited before the next fetch, the positions
   * reached are committed together, every partition's in one request, at most this long after the first of them
   * (and once more when the loop stops). A consumer whose handler is idempotent (a command ledger) gives up only
   * this much re-reading after a crash or a rebalance for one request less per batch, off the fetch's path; a hint
   * (the handler keeps its own position) is only that much older for tools.
   * Default 0: commit after every batch, as before.
   */
  commitDelayMs?: number;
  consumer?: {
    sessionTimeout?: number;
    heartbeatInterval?: number;
    /**
     * How long the broker may hold a fetch that finds nothing (default 100 ms) while a partition is paused and due to be
     * resumed soon (a deferred batch, a back-off): a resumed partition is fetched only once the fetch in flight ends.
     */
    maxWaitTimeInMs?: number;
    /**
     * The same wait while nothing is about to be resumed (default KAFKA_IDLE_FETCH_WAIT_MS, 1 s; never below
     * maxWaitTimeInMs): with minBytes 1 the broker answers as soon as a record is readable, so this only paces the empty
     * fetches of an idle consumer. Heartbeats go between fetches, and stopping waits for the fetch in flight, so both
     * may come this much later. Ignored (maxWaitTimeInMs always) when minBytes gathers more than one byte.
     */
    idleMaxWaitTimeInMs?: number;
    /** The broker answers a fetch once it has this many bytes, or after maxWaitTimeInMs (default 1: at once). */
    minBytes?: number;
    /**
     * Asked as each fetch starts: its `minBytes` instead of the one above (with the idle wait, or `maxWaitTimeInMs`), so
     * a consumer can gather records for up to that wait while what it reads is not needed at once, and read each record
     * as soon as it is readable otherwise.
     */
    minBytesNow?: () => number;
    /** Most bytes one fetch takes of one partition (default 1 MiB): the largest batch a handler gets. */
    maxBytesPerPartition?: number;
    /**
     * Most bytes one fetch takes of all its partitions together (default 10 MiB). KafkaJS decodes a whole fetch
     * before handing over its batches and holds it until the last one is handled: this bounds the records in memory.
     * The broker still returns a first record batch larger than it, so no partition is ever stuck.
     */
    maxBytes?: number;
    readUncommitted?: boolean;
    partitionAssigners?: PartitionAssigner[];
    /**
     * Batches of different partitions handled at the same time (default 1). KafkaJS fetches again only once
     * every batch of a fetch is handled: with 1, a record waits behind every other partition's batch of its
     * fetch. A partition's own batches are always handled one after the other, in order.
     */
    partitionsConcurrently?: number;
  };
}

/** A partition waiting after a failed batch. */
export interface RetryingPartition {
  topic: string;
  partition: number;
  attempts: number;
  since: Date;
  error: string;
}

export interface ConsumeLoopMetrics {
  retries: Counter<'group'>;
  retrying: Gauge<'group'>;
  halted: Gauge<'group'>;
  restarts: Counter<'group'>;
}

/** The loop's metrics on a service's registry (once per registry; every loop of the service shares them). */
export function consumeLoopMetrics(registry: Registry): ConsumeLoopMetrics {
  const existing = <M>(name: string) => registry.getSingleMetric(name) as M | undefined;
  return {
    retries:
      existing<Counter<'group'>>('alertbus_consumer_retries_total') ??
      new Counter({
        name: 'alertbus_consumer_retries_total',
        help: 'Batches that failed (Kafka, Postgres, network, ...) and were paused to be tried again; nothing is skipped.',
        labelNames: ['group'],
        registers: [registry],
      }),
    retrying:
      existing<Gauge<'group'>>('alertbus_consumer_retrying_partitions') ??
      new Gauge({
        name: 'alertbus_consumer_retrying_partitions',
        help: 'Partitions paused after a failed batch, waiting to try it again.',
        labelNames: ['group'],
        registers: [registry],
      }),
    halted:
      existing<Gauge<'group'>>('alertbus_consumer_halted_partitions') ??
      new Gauge({
        name: 'alertbus_consumer_halted_partitions',
        help: 'Partitions stopped because going on would skip records (their position jumped forward by itself).',
        labelNames: ['group'],
        registers: [registry],
      }),
    restarts:
      existing<Counter<'group'>>('alertbus_consumer_restarts_total') ??
      new Counter({
        name: 'alertbus_consumer_restarts_total',
        help: 'Consumers restarted after KafkaJS gave up on them (e.g. a long broker outage).',
        labelNames: ['group'],
        registers: [registry],
      }),
  };
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const tpName = (topic: string, partition: number) => `${topic}[${partition}]`;

export class ConsumeLoop {
  private consumer: Consumer | null = null;
  private started = false;
  private stopping = false;
  private crashed: Error | null = null;
  /**
   * Counts the runs of the current consumer: KafkaJS restarts a crashed consumer in place (same object, new group,
   * nothing paused, positions from the committed offsets), so `this.consumer === c` cannot tell a batch of the
   * crashed run from one of the restarted run.
   */
  private run = 0;
  private fatal: Error | null = null;
  private restartAttempts = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private assignment: Record<string, number[]> = {};
  /** Settles when the seeks of the latest assignment are registered; batches wait for it. */
  private positioned: Promise<void> = Promise.resolve();
  private readonly retrying = new Map<string, RetryingPartition>();
  private readonly waiting = new Map<string, string>();
  private readonly halted = new Map<string, string>();
  private readonly parked = new Set<string>();
  /** When the latest fetch returned (its batches are handed over after it). */
  private lastFetchAt = 0;
  private readonly resumeTimers = new Map<string, NodeJS.Timeout>();
  /** When (epoch ms) each partition's resume timer fires. */
  private readonly resumeAt = new Map<string, number>();
  /** The fetch wait while a paused partition is due to be resumed soon, and while none is (see consumer.idleMaxWaitTimeInMs). */
  private readonly busyFetchWaitMs: number;
  private readonly idleFetchWaitMs: number;
  /** The next offset each partition should be fetched from, where known. */
  private readonly expected = new Map<string, bigint>();
  private readonly committed = new Map<string, bigint>();
  /** commitDelayMs: positions reached and not yet committed, by partition, and the timer that commits them. */
  private readonly uncommitted = new Map<string, { topic: string; partition: number; next: bigint; joins: number }>();
  private commitTimer: NodeJS.Timeout | null = null;
  /** The delayed commit in flight (one at a time, so a later position never lands before an earlier one). */
  private committing: Promise<void> | null = null;
  /**
   * Rewinds since the latest group join, per partition, in order: the offset moved back to and the batch that did it.
   * A batch handed over before a rewind to its start or earlier (by another batch) is stale.
   */
  private readonly rewinds = new Map<string, Array<{ offset: bigint; by: object }>>();
  /** Group joins so far: a deferred batch of an earlier join settles nothing (the group fetches from the committed offsets). */
  private joins = 0;
  /** The group's committed offsets as read just before the consumer started, for its first assignment. */
  private committedAtStart: Map<string, bigint> | null = null;
  private readonly policy: InfraRetryPolicy;

  constructor(private readonly opts: ConsumeLoopOptions) {
    this.policy = opts.retry ?? DEFAULT_INFRA_RETRY;
    this.busyFetchWaitMs = opts.consumer?.maxWaitTimeInMs ?? 100;
    const gathers = (opts.consumer?.minBytes ?? 1) > 1;
    this.idleFetchWaitMs = gathers ? this.busyFetchWaitMs : Math.max(this.busyFetchWaitMs, opts.consumer?.idleMaxWaitTimeInMs ?? idleFetchWaitMs());
  }

  get groupId(): string {
    return this.opts.groupId;
  }

  /** Started and not stopped (it may be restarting after a crash). */
  get isRunning(): boolean {
    return this.started && !this.stopping && this.fatal === null;
  }

  /** The error of a crash not yet recovered from (cleared on the next group join), or null. */
  get lastCrash(): Error | null {
    return this.crashed;
  }

  /** Partitions paused after a failed batch. */
  retryingPartitions(): RetryingPartition[] {
    return [...this.retrying.values()];
  }

  /** Why the loop is not consuming normally, or null: not running, crashed, stopped for good, halted partitions. */
  problem(): string | null {
    if (this.fatal) return `consumer stopped: ${this.fatal.message}`;
    if (!this.started || this.stopping) return 'consumer not running';
    if (this.crashed) return `consumer crashed, restarting: ${this.crashed.message}`;
    if (this.halted.size > 0) return [...this.halted.values()].join('; ');
    return null;
  }

  /**
   * Starts consuming. A broker that is down or not yet serving the group (a fresh or restarting broker answers
   * "not the coordinator" for a while) delays the start, like any later infrastructure fault, instead of failing it.
   */
  async start(): Promise<void> {
    this.stopping = false;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.startConsumer();
        break;
      } catch (err) {
        if (this.stopping || !isInfrastructureError(err)) throw err;
        this.crashed = err as Error;
        const wait = infraBackoffMs(attempt, this.policy);
        this.opts.log.warn({ err, group: this.opts.groupId, inMs: wait, attempt }, 'consumer start failed; trying again');
        const c = this.consumer;
        this.consumer = null;
        await c?.disconnect().catch(() => undefined);
        await new Promise((r) => setTimeout(r, wait));
        if (this.stopping) throw err;
      }
    }
    this.started = true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    for (const t of this.resumeTimers.values()) clearTimeout(t);
    this.resumeTimers.clear();
    this.resumeAt.clear();
    const c = this.consumer;
    if (c) await this.flushCommits(c);
    this.consumer = null;
    await c?.disconnect().catch((err) => this.opts.log.warn({ err, group: this.opts.groupId }, 'consumer disconnect failed'));
    this.started = false;
    this.updateGauges();
  }

  /**
   * Asks positionOf again for every assigned partition and moves there (the handler's own record of where it
   * stands changed under it, e.g. a rebuilt projection); batches in hand become stale.
   */
  reposition(): void {
    const c = this.consumer;
    if (!c || !this.opts.positionOf) return;
    const positioned = this.seekAssigned(c, this.assignment);
    positioned.catch(() => undefined);
    this.positioned = positioned;
  }

  /** Leaves a partition paused for good (a reader that is done with it). */
  park(topic: string, partition: number): void {
    const key = tpKey(topic, partition);
    this.parked.add(key);
    this.clearResume(key);
    if (this.consumer) this.pausePartition(this.consumer, topic, partition);
  }

  private async startConsumer(): Promise<void> {
    const { opts } = this;
    const c = opts.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.consumer?.sessionTimeout ?? 15_000,
      heartbeatInterval: opts.consumer?.heartbeatInterval ?? 1_000,
      maxWaitTimeInMs: this.busyFetchWaitMs,
      ...(opts.consumer?.minBytes !== undefined ? { minBytes: opts.consumer.minBytes } : {}),
      ...(opts.consumer?.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: opts.consumer.maxBytesPerPartition } : {}),
      ...(opts.consumer?.maxBytes !== undefined ? { maxBytes: opts.consumer.maxBytes } : {}),
      allowAutoTopicCreation: false,
      ...(opts.consumer?.readUncommitted !== undefined ? { readUncommitted: opts.consumer.readUncommitted } : {}),
      ...(opts.consumer?.partitionAssigners ? { partitionAssigners: opts.consumer.partitionAssigners } : {}),
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      if (this.consumer !== c) return;
      this.crashed = null;
      this.restartAttempts = 0;
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      this.onJoin(c, assignment);
    });
    c.on(c.events.CRASH, (e) => {
      if (this.consumer !== c || this.stopping) return;
      this.dropDelayedCommits();
      // Whatever the crashed run's batches settle later is moot: the next run fetches from the committed positions.
      this.run += 1;
      for (const t of this.resumeTimers.values()) clearTimeout(t);
      this.resumeTimers.clear();
      this.resumeAt.clear();
      this.crashed = e.payload.error;
      opts.log.error({ err: e.payload.error, restart: e.payload.restart, group: opts.groupId }, 'consumer crashed');
      if (!e.payload.restart) this.scheduleRestart(c);
    });
    c.on(c.events.REBALANCING, () => {
      if (this.consumer !== c) return;
      // Positions of partitions that may move to another member: not committed late over that member's (re-read instead).
      this.dropDelayedCommits();
      opts.onRebalancing?.();
    });
    c.on(c.events.FETCH, () => {
      if (this.consumer === c) this.lastFetchAt = Date.now();
    });
    c.on(c.events.HEARTBEAT, () => {
      if (this.consumer === c) opts.onHeartbeat?.();
    });
    const minBytesNow = opts.consumer?.minBytesNow;
    if ((this.idleFetchWaitMs > this.busyFetchWaitMs || minBytesNow) && installFetchWaitChoice()) {
      c.on(c.events.FETCH_START, () => {
        if (this.consumer !== c) return;
        if (!minBytesNow) chooseNextFetchWait(() => this.nextFetchWait(c));
        else chooseNextFetchWait(() => ({ maxWaitMs: this.nextFetchWait(c), minBytes: minBytesNow() }));
      });
    }
    // Batches made only of transaction markers or aborted records never reach eachBatch; this still tells their end.
    c.on(c.events.END_BATCH_PROCESS, (e) => {
      if (this.consumer !== c) return;
      const p = e.payload as { topic: string; partition: number; lastOffset: string; batchSize: number };
      if (p.batchSize !== 0) return;
      const next = BigInt(p.lastOffset) + 1n;
      const key = tpKey(p.topic, p.partition);
      const known = this.expected.get(key);
      if (known === undefined || next > known) this.expected.set(key, next);
      opts.onPosition?.(p.topic, p.partition, next.toString());
    });
    this.consumer = c;
    if (!opts.positionOf && opts.detectJumps !== false) this.committedAtStart = await this.fetchCommitted(opts.topics);
    await c.connect();
    await c.subscribe({ topics: [...opts.topics], fromBeginning: opts.fromBeginning ?? true });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, opts.consumer?.partitionsConcurrently ?? 1),
      eachBatch: (payload) => this.eachBatch(c, payload),
    });
  }

  /** KafkaJS stopped for good (it does after some broker outages): start a fresh consumer, backing off. */
  private scheduleRestart(old: Consumer): void {
    if (this.restartTimer || this.stopping) return;
    this.restartAttempts += 1;
    const wait = infraBackoffMs(this.restartAttempts, this.policy);
    this.opts.log.warn({ group: this.opts.groupId, inMs: wait, attempt: this.restartAttempts }, 'restarting the consumer');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.stopping || this.consumer !== old) return;
      void (async () => {
        await old.disconnect().catch(() => undefined);
        if (this.stopping) return;
        this.opts.metrics?.restarts.inc({ group: this.opts.groupId });
        try {
          await this.startConsumer();
        } catch (err) {
          this.crashed = err as Error;
          this.opts.log.warn({ err, group: this.opts.groupId }, 'consumer restart failed; trying again');
          if (this.consumer) this.scheduleRestart(this.consumer);
        }
      })();
    }, wait);
    this.restartTimer.unref();
  }

  private onJoin(c: Consumer, assignment: Record<string, number[]>): void {
    this.assignment = assignment;
    this.joins += 1;
    this.rewinds.clear();
    const assigned = new Set(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => tpKey(t, p))));
    this.expected.clear();
    this.committed.clear();
    for (const key of [...this.retrying.keys()]) if (!assigned.has(key)) this.retrying.delete(key);
    for (const key of [...this.waiting.keys()]) if (!assigned.has(key)) this.waiting.delete(key);
    for (const key of [...this.halted.keys()]) if (!assigned.has(key)) this.halted.delete(key);
    this.updateGauges();
    this.opts.onAssigned?.(assignment);
    let positioned: Promise<void>;
    if (this.opts.positionOf) {
      positioned = this.seekAssigned(c, assignment);
    } else if (this.committedAtStart) {
      // Read before the consumer ran: KafkaJS's first fetch may already have reset an out-of-range offset.
      this.expectCommitted(assignment, this.committedAtStart);
      this.committedAtStart = null;
      positioned = Promise.resolve();
    } else {
      positioned = this.fetchCommitted(Object.keys(assignment)).then((committed) => {
        if (this.consumer === c) this.expectCommitted(assignment, committed);
      });
    }
    positioned.catch(() => undefined); // awaited (and handled) by the next batch, never unhandled
    this.positioned = positioned;
  }

  /** The group's committed offsets (valid ones only), by partition. */
  private async fetchCommitted(topics: readonly string[]): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    if (topics.length === 0) return out;
    const admin = this.opts.kafka.admin();
    await admin.connect();
    try {
      for (const t of await admin.fetchOffsets({ groupId: this.opts.groupId, topics: [...topics] })) {
        for (const p of t.partitions) if (BigInt(p.offset) >= 0n) out.set(tpKey(t.topic, p.partition), BigInt(p.offset));
      }
      return out;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Where the committed offsets say the assigned partitions resume: what their first fetch must start from. */
  private expectCommitted(assignment: Record<string, number[]>, committed: Map<string, bigint>): void {
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = tpKey(topic, partition);
        const offset = committed.get(key);
        if (offset !== undefined && !this.expected.has(key)) this.expected.set(key, offset);
      }
    }
  }

  private async seekAssigned(c: Consumer, assignment: Record<string, number[]>): Promise<void> {
    const positionOf = this.opts.positionOf!;
    const admin = this.opts.kafka.admin();
    let adminConnected = false;
    try {
      for (const [topic, partitions] of Object.entries(assignment)) {
        let lows: Map<number, string> | null = null;
        for (const partition of partitions) {
          let position = await positionOf(topic, partition);
          if (position === 'park') {
            this.park(topic, partition);
            continue;
          }
          if (position === 'earliest') {
            if (!lows) {
              if (!adminConnected) await admin.connect();
              adminConnected = true;
              const offsets = await admin.fetchTopicOffsets(topic);
              lows = new Map(offsets.map((o) => [o.partition, o.low]));
            }
            position = lows.get(partition) ?? '0';
          }
          if (this.consumer !== c) return;
          c.seek({ topic, partition, offset: position });
          this.expected.set(tpKey(topic, partition), BigInt(position));
        }
      }
    } catch (err) {
      this.opts.log.warn({ err, group: this.opts.groupId }, 'could not look up where the assigned partitions resume; trying again');
      throw err;
    } finally {
      if (adminConnected) await admin.disconnect().catch(() => undefined);
    }
  }

  private async eachBatch(c: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const key = tpKey(topic, partition);
    const run = this.run;
    try {
      await this.positioned;
    } catch (err) {
      // Without the positions, the records would come from the wrong place: ask again after a while.
      this.positioned = this.opts.positionOf ? this.seekAssigned(c, this.assignment) : Promise.resolve();
      this.positioned.catch(() => undefined);
      this.retryLater(c, run, topic, partition, err, 'positions');
      return;
    }
    if (payload.isStale() || !payload.isRunning() || !this.current(c, run)) return;
    if (this.parked.has(key) || this.halted.has(key)) {
      this.pausePartition(c, topic, partition);
      return;
    }
    const fetchedRaw = (batch as unknown as { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? '0';
    const fetched = BigInt(fetchedRaw);
    const expected = this.expected.get(key);
    if (expected !== undefined && fetched !== expected && this.opts.detectJumps !== false) {
      if (fetched > expected) {
        // Another member's commit landing late moves the position forward too; only a log that no longer
        // holds the records in between (an "offset out of range" reset) would skip them.
        const low = await this.logStart(topic, partition).catch((err) => {
          this.retryLater(c, run, topic, partition, err, 'positions');
          return null;
        });
        if (low === null || !this.current(c, run)) return;
        if (low > expected) {
          this.halt(c, topic, partition, expected, fetched);
          return;
        }
        this.opts.log.info({ topic, partition, expected: String(expected), fetched: fetchedRaw, group: this.opts.groupId }, 'partition position moved forward by a commit of the group');
      } else {
        this.opts.log.warn({ topic, partition, expected: String(expected), fetched: fetchedRaw, group: this.opts.groupId }, 'partition position moved back; reading again');
      }
    }
    this.expected.set(key, fetched);

    let position = fetched;
    let sought = false;
    const joins = this.joins;
    const self = {};
    const rewindsBefore = this.rewinds.get(key)?.length ?? 0;
    /** A rewind by another batch of the partition to this batch's start or earlier, since this one was handed over. */
    const rewoundPast = () =>
      joins === this.joins && (this.rewinds.get(key) ?? []).some((r, k) => k >= rewindsBefore && r.by !== self && r.offset <= fetched);
    let rewound = false;
    const rewind = () => {
      if (rewound || joins !== this.joins || !this.current(c, run) || rewoundPast()) return;
      rewound = true;
      const list = this.rewinds.get(key) ?? [];
      list.push({ offset: fetched, by: self });
      this.rewinds.set(key, list);
      this.expected.set(key, fetched);
      try {
        c.seek({ topic, partition, offset: fetchedRaw });
      } catch (err) {
        this.opts.log.info({ err, topic, partition, group: this.opts.groupId }, 'partition not rewound: the consumer is restarting');
      }
    };
    const view: LoopBatch = {
      topic,
      partition,
      fromOffset: fetchedRaw,
      records: batch.messages.map((m) => toConsumedRecord(topic, partition, m)),
      nextOffset: (BigInt(batch.lastOffset()) + 1n).toString(),
      highWatermark: batch.highWatermark,
      fetchedAt: this.lastFetchAt || Date.now(),
      heartbeat: () => payload.heartbeat(),
      isStale: () => sought || joins !== this.joins || rewoundPast() || payload.isStale() || !payload.isRunning() || !this.current(c, run),
      resolve: (offset) => {
        payload.resolveOffset(offset);
        position = BigInt(offset) + 1n;
        this.expected.set(key, position);
      },
      seek: (offset) => {
        sought = true;
        c.seek({ topic, partition, offset });
        this.expected.set(key, BigInt(offset));
      },
      rewind,
    };
    // A handler may legitimately take a while (a slow API): keep the membership alive meanwhile.
    const keepAlive = setInterval(() => void payload.heartbeat().catch(() => undefined), this.opts.consumer?.heartbeatInterval ?? 1_000);
    let outcome: BatchOutcome;
    try {
      outcome = await this.opts.handleBatch(view);
    } catch (err) {
      clearInterval(keepAlive);
      if (sought || !this.current(c, run)) return;
      if (this.opts.retryable && !this.opts.retryable(err)) {
        this.fatal = err as Error;
        this.opts.log.error({ err, topic, partition, group: this.opts.groupId }, 'batch handler failed; stopping');
        this.opts.onFatal?.(err as Error);
        return;
      }
      this.retryLater(c, run, topic, partition, err, 'batch');
      await this.commit(c, topic, partition, position, false);
      return;
    } finally {
      clearInterval(keepAlive);
    }
    if (sought || !this.current(c, run)) return;
    if (outcome && 'deferred' in outcome) {
      // Nothing is resolved yet: until the batch settles (or may be moved past), the partition stays paused at its start.
      this.pausePartition(c, topic, partition);
      this.clearResume(key);
      let settled = false;
      let proceeded = false;
      const moot = () => sought || rewoundPast() || !this.current(c, run);
      outcome.proceed?.then(() => {
        if (settled || moot() || rewound || joins !== this.joins) return;
        proceeded = true;
        // Past the batch, not committed: a rejoin or restart fetches from the committed offsets again.
        payload.resolveOffset(batch.lastOffset());
        this.expected.set(key, BigInt(batch.lastOffset()) + 1n);
        if (this.parked.has(key) || this.halted.has(key) || this.resumeTimers.has(key)) return;
        this.resumePartition(c, topic, partition);
      });
      outcome.deferred.then(
        (result) => {
          settled = true;
          // Not moved past, or the group was joined again since (the partition is fetched from the committed offsets, and
          // stays paused until resumed here): as without pipelining.
          if (!proceeded || joins !== this.joins) return this.settleDeferred(c, run, payload, key, result, () => sought || rewoundPast(), () => position);
          if (moot()) return;
          if (result && 'retryInMs' in result) {
            rewind();
            this.waiting.set(key, result.reason);
            this.pauseFor(c, run, topic, partition, result.retryInMs);
            return;
          }
          // Done: the position moved past it already (and the partition may be paused for a later batch).
          this.waiting.delete(key);
          if (this.retrying.delete(key)) this.updateGauges();
          const next = BigInt(batch.lastOffset()) + 1n;
          this.opts.onPosition?.(topic, partition, next.toString());
          void this.commit(c, topic, partition, next, true);
        },
        (err: unknown) => {
          settled = true;
          if (moot()) return;
          if (proceeded && joins === this.joins) rewind();
          this.retryLater(c, run, topic, partition, err, 'batch');
        },
      );
      return;
    }
    await this.settle(c, run, payload, key, outcome, position);
  }

  /** A deferred batch settled: move past it and fetch the partition again, or come back to it later. */
  private settleDeferred(
    c: Consumer,
    run: number,
    payload: EachBatchPayload,
    key: string,
    outcome: SettledOutcome,
    sought: () => boolean,
    position: () => bigint,
  ): void {
    if (sought() || !this.current(c, run)) return;
    const { topic, partition } = payload.batch;
    void this.settle(c, run, payload, key, outcome, position()).then(() => {
      if (!this.current(c, run) || this.parked.has(key) || this.halted.has(key) || this.resumeTimers.has(key)) return;
      this.resumePartition(c, topic, partition);
    });
  }

  /** The handler is done with the batch (`outcome`): resolve it, or pause the partition until it comes back. */
  private async settle(c: Consumer, run: number, payload: EachBatchPayload, key: string, outcome: SettledOutcome, position: bigint): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    if (outcome && 'retryInMs' in outcome) {
      this.waiting.set(key, outcome.reason);
      this.pauseFor(c, run, topic, partition, outcome.retryInMs);
      await this.commit(c, topic, partition, position, false);
      return;
    }
    if (payload.isStale()) return;
    payload.resolveOffset(batch.lastOffset());
    const next = BigInt(batch.lastOffset()) + 1n;
    this.expected.set(key, next);
    this.waiting.delete(key);
    if (this.retrying.delete(key)) this.updateGauges();
    this.opts.onPosition?.(topic, partition, next.toString());
    await this.commit(c, topic, partition, next, true);
    await payload.heartbeat().catch(() => undefined);
  }

  private async logStart(topic: string, partition: number): Promise<bigint> {
    const admin = this.opts.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return BigInt(offsets.find((o) => o.partition === partition)?.low ?? '0');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private retryLater(c: Consumer, run: number, topic: string, partition: number, err: unknown, what: 'batch' | 'positions'): void {
    const key = tpKey(topic, partition);
    const prev = this.retrying.get(key);
    const entry: RetryingPartition = {
      topic,
      partition,
      attempts: (prev?.attempts ?? 0) + 1,
      since: prev?.since ?? new Date(),
      error: (err as Error)?.message ?? String(err),
    };
    this.retrying.set(key, entry);
    const wait = infraBackoffMs(entry.attempts, this.policy);
    this.opts.metrics?.retries.inc({ group: this.opts.groupId });
    this.updateGauges();
    this.opts.log.warn(
      { err, topic, partition, group: this.opts.groupId, attempt: entry.attempts, retryInMs: wait, what },
      'batch failed; partition paused, the same records will be tried again',
    );
    this.pauseFor(c, run, topic, partition, wait);
  }

  private halt(c: Consumer, topic: string, partition: number, expected: bigint, fetched: bigint): void {
    const key = tpKey(topic, partition);
    const reason =
      `${tpName(topic, partition)} jumped from offset ${expected} to ${fetched}: offsets ${expected}..${fetched - 1n} are no ` +
      `longer in the log (deleted, or another cluster); halted rather than skipping them${this.opts.haltAdvice ? `. ${this.opts.haltAdvice}` : ''}`;
    this.halted.set(key, reason);
    this.clearResume(key);
    this.pausePartition(c, topic, partition);
    this.updateGauges();
    this.opts.log.error({ topic, partition, expected: String(expected), fetched: String(fetched), group: this.opts.groupId }, reason);
    this.opts.onHalt?.(reason);
  }

  private pauseFor(c: Consumer, run: number, topic: string, partition: number, ms: number): void {
    const key = tpKey(topic, partition);
    // A batch of a run that crashed meanwhile: the restarted run fetches the partition again by itself.
    if (!this.current(c, run)) return;
    this.pausePartition(c, topic, partition);
    this.clearResume(key);
    const timer = setTimeout(() => {
      if (this.resumeTimers.get(key) === timer) {
        this.resumeTimers.delete(key);
        this.resumeAt.delete(key);
      }
      if (!this.current(c, run) || this.parked.has(key) || this.halted.has(key)) return;
      this.resumePartition(c, topic, partition);
    }, Math.max(0, ms));
    timer.unref();
    this.resumeTimers.set(key, timer);
    this.resumeAt.set(key, Date.now() + Math.max(0, ms));
  }

  /**
   * The wait of the fetch about to start: the short one while a paused partition may be resumed before the long one
   * is over (it would wait for the held fetch to end); parked and halted partitions, and those waiting out a longer
   * back-off, do not count.
   */
  private nextFetchWait(c: Consumer): number {
    const now = Date.now();
    try {
      for (const { topic, partitions } of c.paused()) {
        for (const partition of partitions) {
          const key = tpKey(topic, partition);
          if (this.parked.has(key) || this.halted.has(key)) continue;
          const at = this.resumeAt.get(key);
          if (at !== undefined && at - now > this.idleFetchWaitMs) continue;
          return this.busyFetchWaitMs;
        }
      }
    } catch {
      return this.busyFetchWaitMs;
    }
    return this.idleFetchWaitMs;
  }

  /** `c` is the loop's consumer, still in the run `run` (not crashed since, not stopping). */
  private current(c: Consumer, run: number): boolean {
    return !this.stopping && this.consumer === c && this.run === run;
  }

  /**
   * KafkaJS throws on pause and resume while it has no group: from the moment a crash stops it until its own restart
   * runs. Called from timers and promise callbacks, such a throw would end the process; the group KafkaJS starts
   * next has nothing paused and fetches every partition from its committed position, so there is nothing to do.
   */
  private pausePartition(c: Consumer, topic: string, partition: number): void {
    try {
      c.pause([{ topic, partitions: [partition] }]);
    } catch (err) {
      this.opts.log.info({ err, topic, partition, group: this.opts.groupId }, 'partition not paused: the consumer is restarting');
    }
  }

  private resumePartition(c: Consumer, topic: string, partition: number): void {
    try {
      c.resume([{ topic, partitions: [partition] }]);
    } catch (err) {
      this.opts.log.info({ err, topic, partition, group: this.opts.groupId }, 'partition not resumed: the consumer is restarting');
    }
  }

  private clearResume(key: string): void {
    const t = this.resumeTimers.get(key);
    if (t) clearTimeout(t);
    this.resumeTimers.delete(key);
    this.resumeAt.delete(key);
  }

  private async commit(c: Consumer, topic: string, partition: number, next: bigint, batchDone: boolean): Promise<void> {
    const mode = this.opts.commit;
    if (mode === 'none' || (mode === 'hint' && !batchDone)) return;
    const key = tpKey(topic, partition);
    if ((this.committed.get(key) ?? -1n) >= next) return;
    if ((this.opts.commitDelayMs ?? 0) > 0) {
      const known = this.uncommitted.get(key);
      if (!known || known.next < next || known.joins !== this.joins) this.uncommitted.set(key, { topic, partition, next, joins: this.joins });
      this.commitTimer ??= setTimeout(() => {
        this.commitTimer = null;
        void this.flushCommits(c);
      }, this.opts.commitDelayMs);
      return;
    }
    try {
      await c.commitOffsets([{ topic, partition, offset: next.toString() }]);
      this.committed.set(key, next);
    } catch (err) {
      // The handled records stay handled; the offset goes with the next commit, or the records come again
      // after a rebalance (every handler of a 'kafka' loop is idempotent).
      this.opts.log.warn({ err, topic, partition, group: this.opts.groupId }, 'offset commit failed');
    }
  }

  /** Commits the delayed positions (commitDelayMs) in one request, after the one in flight; failures are logged, as commit's. */
  private async flushCommits(c: Consumer): Promise<void> {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    while (this.committing) await this.committing;
    if (this.uncommitted.size === 0 || this.consumer !== c) return;
    // Positions reached before the latest group join may belong to another member now: re-read rather than committed.
    const batch = [...this.uncommitted.values()].filter((b) => b.joins === this.joins);
    this.uncommitted.clear();
    if (batch.length === 0) return;
    const run = (async () => {
      try {
        await c.commitOffsets(batch.map((b) => ({ topic: b.topic, partition: b.partition, offset: b.next.toString() })));
        for (const b of batch) {
          const key = tpKey(b.topic, b.partition);
          if ((this.committed.get(key) ?? -1n) < b.next) this.committed.set(key, b.next);
        }
      } catch (err) {
        // As commit's: the records are handled; they come again after a rebalance or restart (the handler is idempotent).
        this.opts.log.warn({ err, group: this.opts.groupId, partitions: batch.length }, 'offset commit failed');
      }
    })();
    this.committing = run;
    try {
      await run;
    } finally {
      this.committing = null;
    }
  }

  private dropDelayedCommits(): void {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    this.uncommitted.clear();
  }

  private updateGauges(): void {
    const m = this.opts.metrics;
    if (!m) return;
    m.retrying.set({ group: this.opts.groupId }, this.retrying.size);
    m.halted.set({ group: this.opts.groupId }, this.halted.size);
  }
}
