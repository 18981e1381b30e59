/**
 * The Kafka side of history: reads every topic it projects and applies each batch in one Postgres
 * transaction together with the offsets it covers, so a crash anywhere leaves the tables and offsets agreeing.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { GROUPS, type ValidationResult } from '@alertbus/schemas';
import type { InfraRetryPolicy } from '@alertbus/common';
import {
  ConsumeLoop,
  consumeLoopMetrics,
  deadLetterEvent,
  type ConsumedRecord,
  type BatchOutcome,
  type DeferredOutcome,
  type EventProducer,
  type LoopBatch,
  type SettledOutcome,
} from '@alertbus/kafka';

/** How often a refusing projector looks again (a rebuild may have fixed it), and a healthy one checks its cluster. */
const REFUSAL_RECHECK_MS = 5_000;
const CLUSTER_RECHECK_MS = 60_000;
/**
 * What one fetch brings (KafkaJS's defaults: 10 MiB, 1 MiB a partition): the whole fetch stays decoded in memory until
 * its last batch is projected, and with a backlog 10 MiB of records took the process to 330-350 MB (bench/README.md).
 * 4 MiB peaked at 193-205 MB over a backlog; 3 MiB at 182-193 MB for the same rate (twenty-ninth run).
 */
const FETCH_MAX_BYTES = 3 * 1024 * 1024;
const FETCH_MAX_BYTES_PER_PARTITION = 512 * 1024;
/**
 * The broker may hold a fetch to gather records (up to HISTORY_FETCH_LINGER_MS) unless this much is there already:
 * at low rates each record would otherwise be fetched and projected alone, one fetch and one Postgres transaction per
 * record of every topic. A backlog (a storm, a restart) fills it at once, so catching up never waits.
 */
const FETCH_MIN_BYTES = 1024 * 1024;
/**
 * A partition's batch of at most this many records shares one transaction with the other partitions' small batches
 * (see `inGroup`). At low rates a fetch brings a record or two for each of some thirty partitions, and a transaction
 * each cost more than their rows (bench/README.md, seventeenth run); a backlog's batches are hundreds of records and
 * are applied as before, each in its own transaction, two partitions' at a time.
 */
const GROUP_BATCH_MAX_RECORDS = 32;
/**
 * Records of one group transaction at most (the small batches waiting beyond it go in the next one): a fetch's worth
 * at 300 alerts/s. Transactions of thousands of records from many partitions cost Postgres more over a backlog in the
 * twelfth and sixteenth runs (cause not found), so groups stay the size of what they save: per-transaction work.
 */
const GROUP_MAX_RECORDS = 512;
import {
  applyRecordBatch,
  applyRecordBatches,
  bindCluster,
  clusterMismatch,
  onlyTimelineRows,
  prepareRecords,
  currentClusterId,
  isDataError,
  PROJECTED_TOPICS,
  ProjectionAheadOfLog,
  readNextOffset,
  storedClusterId,
  type BatchResult,
  type Projection,
  type Rejected,
} from '@alertbus/projection';
import { DEFAULT_FETCH_LINGER_MS } from './config';
import type { HistoryMetrics } from './metrics';

export interface ProjectorOptions {
  pool: Pool;
  kafka: Kafka;
  /** Used for dead letters only. */
  producer: EventProducer;
  log: Logger;
  metrics: HistoryMetrics;
  /** Consumer group, also the `consumer` of the stored offsets. */
  groupId?: string;
  topics?: readonly string[];
  /** Back-off while Postgres or Kafka are unreachable; the projector never skips, it waits. */
  retry?: InfraRetryPolicy;
  /** For messages: the brokers the projector reads (KAFKA_BROKERS). */
  brokers?: string;
  /**
   * At most this long (ms) a fetch waits for FETCH_MIN_BYTES to gather (default DEFAULT_FETCH_LINGER_MS): what the
   * history may lag behind the log at low rates. 0: every record is fetched as soon as it is there.
   */
  fetchLingerMs?: number;
}

/** A consumed record with its value decoded and validated against the schemas (for its topic), and projected. */
export type DecodedRecord = ConsumedRecord & { decoded: ValidationResult; projection?: Projection };

/** A small batch waiting for its group transaction (Projector.inGroup), and how its deferred outcome settles. */
interface WaitingBatch {
  batch: LoopBatch;
  records: readonly DecodedRecord[];
  resolve: (outcome: SettledOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Records handed over and not yet applied (bytes of their values) beyond which the handler waits before decoding the
 * next batch, so KafkaJS fetches nothing more meanwhile (see `pipelined`). Two batches of 512 KiB: enough for the serial
 * lane to find its next one decoded; 4 MiB kept history's RSS above 300 MB in the twentieth run's trials.
 */
const PIPELINE_MAX_BYTES = 1024 * 1024;

const partitionKey = (b: { topic: string; partition: number }) => `${b.topic}\u0000${b.partition}`;

/** The fetch's wait: gather for `lingerMs`, or (0) answer as soon as one record is there and poll every 100 ms. */
function fetchWait(lingerMs: number): { minBytes: number; maxWaitTimeInMs: number } {
  return lingerMs > 0 ? { minBytes: FETCH_MIN_BYTES, maxWaitTimeInMs: lingerMs } : { minBytes: 1, maxWaitTimeInMs: 100 };
}

export class Projector {
  readonly groupId: string;
  private readonly loop: ConsumeLoop;

  constructor(private readonly opts: ProjectorOptions) {
    this.groupId = opts.groupId ?? GROUPS.history;
    this.loop = new ConsumeLoop({
      kafka: opts.kafka,
      groupId: this.groupId,
      topics: [...(opts.topics ?? PROJECTED_TOPICS)],
      log: opts.log,
      // The offsets that count are stored with the rows; Kafka's committed ones are a hint for tools.
      commit: 'hint',
      // Every partition's hint in one request a second, not one request (and one append to the broker's offsets log)
      // per batch of every partition: as many as the projection's own transactions.
      commitDelayMs: 1_000,
      retry: opts.retry,
      metrics: consumeLoopMetrics(opts.metrics.registry),
      // Two partitions' batches at a time: one is decoded and projected while the other's transaction runs.
      // Transactions that change incidents, deliveries, silences or notifications run one after the other
      // (serially): concurrent ones could each miss the other's rows (a delivery and the incident it links to,
      // read from two topics). Across instances, each such transaction takes one lock first (batch-apply.ts). A batch
      // that only adds timeline rows (inputs, commands) reads no row another transaction writes and writes none another
      // reads, so it runs beside them.
      consumer: {
        partitionsConcurrently: 2,
        maxBytes: FETCH_MAX_BYTES,
        maxBytesPerPartition: FETCH_MAX_BYTES_PER_PARTITION,
        ...fetchWait(opts.fetchLingerMs ?? DEFAULT_FETCH_LINGER_MS),
      },
      handleBatch: async (batch) => {
        await this.roomInPipeline();
        const records: DecodedRecord[] = await prepareRecords(batch.records);
        // A small batch joins a group only while no batch of its partition is still in the pipeline (it would overtake it).
        if (batch.records.length <= GROUP_BATCH_MAX_RECORDS && !this.tails.has(partitionKey(batch))) {
          const held = await this.held();
          return held ?? { deferred: this.inGroup(batch, records) };
        }
        return this.pipelined(batch, records);
      },
      positionOf: async (topic, partition) => (await readNextOffset(opts.pool, this.groupId, topic, partition)) ?? 'earliest',
      // A new assignment may come with a new broker behind the same address: check the cluster again.
      onAssigned: () => (this.clusterVerifiedAt = 0),
      haltAdvice: 'Run `alertbus history rebuild` to rebuild the projection from the log as it is',
    });
  }

  /** Null when consuming, else why not (the projection refusing a cluster or a log, a stopped consumer). */
  problem(): string | null {
    if (this.refusal) return `projector refuses to project: ${this.refusal}`;
    const p = this.loop.problem();
    return p === null ? null : `projector: ${p}`;
  }

  async start(): Promise<void> {
    await this.verifyCluster();
    await this.loop.start();
  }

  /** Why history does not project this cluster's records into this projection, while it does not. */
  private refusal: string | null = null;
  private clusterVerifiedAt = 0;

  /**
   * The projection's offsets belong to the cluster it was built from. A projection bound to none yet (a new
   * one, or one from before clusters were recorded) is bound to this one; on a mismatch nothing is applied.
   */
  private async verifyCluster(): Promise<boolean> {
    const { pool, kafka, log } = this.opts;
    const current = await currentClusterId(kafka);
    let stored = await storedClusterId(pool, this.groupId);
    if (stored === null) {
      stored = await bindCluster(pool, this.groupId, current);
      log.info({ clusterId: stored }, 'projection bound to the Kafka cluster');
    }
    this.clusterVerifiedAt = Date.now();
    if (stored !== current) {
      this.refuse(clusterMismatch(stored, current, this.opts.brokers ?? 'the brokers'), { projectionCluster: stored, brokerCluster: current });
      return false;
    }
    return true;
  }
  async stop(): Promise<void> {
    await this.loop.stop();
    // The transactions in flight finish (what they applied is consistent either way) before the pool is closed; the
    // batches still waiting see their batch stale (the loop is stopping) and apply nothing.
    await this.groupsApplied;
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }

  /**
   * One transaction: lock the partition's stored offset, apply what lies beyond it, dead-letter what cannot
   * be applied (before the commit, so no record is ever covered without being applied or dead-lettered),
   * store the new offset.
   */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Pipelined transactions that only add timeline rows run one at a time in a lane of their own beside the serial one:
   * two transactions at once, as the two partitions' batches at a time before, and the serial lane (the longer chain)
   * never waits for a connection behind them. The pool (5) keeps connections for the query API.
   */
  private timelineQueue: Promise<unknown> = Promise.resolve();

  /** Runs after everything queued before it has finished, failed or not. */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The same for the timeline-only lane. */
  private besideTheLane<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.timelineQueue.then(fn, fn);
    this.timelineQueue = run.catch(() => undefined);
    return run;
  }

  /** Why no batch is applied now (a refusal, a cluster that changed, a reposition), or null: go on. */
  private async held(): Promise<SettledOutcome | null> {
    if (this.refusal !== null) {
      if (Date.now() - this.clusterVerifiedAt < REFUSAL_RECHECK_MS) return { retryInMs: REFUSAL_RECHECK_MS, reason: this.refusal };
      if (!(await this.verifyCluster())) return { retryInMs: REFUSAL_RECHECK_MS, reason: this.refusal! };
      // Perhaps rebuilt meanwhile: read on from the projection's stored offsets, not from where it stood.
      this.opts.log.info('looking again at the projection from its stored offsets');
      this.refusal = null;
      this.loop.reposition();
      return { retryInMs: 0, reason: 'repositioned' };
    }
    if (Date.now() - this.clusterVerifiedAt > CLUSTER_RECHECK_MS && !(await this.verifyCluster())) {
      return { retryInMs: REFUSAL_RECHECK_MS, reason: this.refusal! };
    }
    return null;
  }

  /** Small batches waiting for the next group transaction, in the order they were handed over. */
  private waiting: WaitingBatch[] = [];
  /** A group transaction is running or about to start: batches handed over meanwhile wait for the next one. */
  private grouping = false;

  /**
   * A small batch's transaction is shared with the other partitions' small batches waiting when it starts (a group
   * commit). The handler returns at once (its outcome deferred, the partition paused until it settles), so KafkaJS hands
   * over the fetch's next batch, and the group starts once the loop is done handing them over (a macrotask later): at
   * low rates a fetch's thirty batches make one transaction, not thirty. Groups run one at a time, in the serial lane
   * (they may change incidents and deliveries); a backlog's large batches do not wait here (`handleBatch` as before).
   */
  private inGroup(batch: LoopBatch, records: readonly DecodedRecord[]): Promise<SettledOutcome> {
    return new Promise<SettledOutcome>((resolve, reject) => {
      this.waiting.push({ batch, records, resolve, reject });
      if (this.grouping) return;
      this.grouping = true;
      this.groupsApplied = new Promise<void>((done) => setImmediate(() => void this.applyGroups().finally(done)));
    });
  }

  /** Settles once no group transaction is running or about to start. */
  private groupsApplied: Promise<void> = Promise.resolve();

  private async applyGroups(): Promise<void> {
    try {
      while (this.waiting.length > 0) await this.serially(() => this.applyGroup(this.takeGroup()));
    } finally {
      this.grouping = false;
    }
  }

  /** The batches waiting, up to GROUP_MAX_RECORDS, one per partition (a partition's later batch waits for the next group). */
  private takeGroup(): WaitingBatch[] {
    const group: WaitingBatch[] = [];
    const rest: WaitingBatch[] = [];
    const partitions = new Set<string>();
    let n = 0;
    for (const w of this.waiting) {
      const key = `${w.batch.topic}\u0000${w.batch.partition}`;
      if (partitions.has(key) || (group.length > 0 && n + w.records.length > GROUP_MAX_RECORDS)) {
        rest.push(w);
        continue;
      }
      partitions.add(key);
      n += w.records.length;
      group.push(w);
    }
    this.waiting = rest;
    return group;
  }

  /**
   * One transaction for the group's batches. When Postgres refuses it (an event applied already, a value it cannot
   * take) or a partition's stored offset lies beyond its log, nothing of it is applied and each batch goes alone, as a
   * large one does (`handleBatch`: duplicates told by their ids, refused records isolated and dead-lettered, the
   * refusal). Any other failure fails every batch of the group: each partition is read again from its batch's start.
   */
  private async applyGroup(group: readonly WaitingBatch[]): Promise<void> {
    if (group.length === 1) {
      const [w] = group;
      await this.handleBatch(w!.batch, w!.records).then(w!.resolve, w!.reject);
      return;
    }
    const held = await this.held().catch((err: unknown) => {
      for (const w of group) w.reject(err);
      return 'failed' as const;
    });
    if (held === 'failed') return;
    if (held !== null) {
      for (const w of group) w.resolve(held);
      return;
    }
    let results: Array<BatchResult<DecodedRecord>>;
    try {
      results = await applyRecordBatches(
        { pool: this.opts.pool, consumer: this.groupId, onRejected: (rejected) => this.deadLetter(rejected) },
        group.map((w) => ({ topic: w.batch.topic, partition: w.batch.partition, records: w.records, logEnd: w.batch.highWatermark })),
      );
    } catch (err) {
      if (!isDataError(err) && !(err instanceof ProjectionAheadOfLog)) {
        for (const w of group) w.reject(err);
        return;
      }
      this.opts.log.info({ err, batches: group.length }, 'a group of batches not applied together; applying them one by one');
      for (const w of group) await this.handleBatch(w.batch, w.records).then(w.resolve, w.reject);
      return;
    }
    if (this.lastRefusalLogged !== null) {
      this.opts.log.info('projecting again');
      this.lastRefusalLogged = null;
    }
    group.forEach((w, i) => {
      this.record(w.batch, results[i]!);
      w.resolve();
    });
  }

  /**
   * The last batch handed over of each partition still in the pipeline: it settles true once applied, false when it was
   * not (a failure, a refusal, a batch gone stale), and then leaves the map unless a later batch took its place.
   */
  private readonly tails = new Map<string, Promise<boolean>>();
  /** Bytes of the records handed over and not applied yet (see PIPELINE_MAX_BYTES), and the partitions waiting for room. */
  private pipelineBytes = 0;
  private readonly waitingForRoom: Array<() => void> = [];

  /**
   * A batch's transaction runs after the one before it of the same partition, in the serial lane unless it only adds
   * timeline rows, as before; but the handler returns at once (a deferred outcome) and the loop fetches the partition
   * again while it waits or runs (`proceed`), so the next fetch and its decoding overlap the transactions instead of
   * following them. The offsets stay in the transaction of the rows they cover. A batch whose predecessor was not
   * applied applies nothing and fails: the loop moves the partition back to the first batch not applied, and what was
   * handed over after it comes again in order. A batch gone stale meanwhile (a rebalance, a stop) applies nothing.
   */
  private pipelined(batch: LoopBatch, records: readonly DecodedRecord[]): DeferredOutcome {
    const key = partitionKey(batch);
    const before = this.tails.get(key);
    const bytes = batch.records.reduce((n, r) => n + (r.value?.length ?? 0), 0);
    this.pipelineBytes += bytes;
    const apply = (): Promise<SettledOutcome> =>
      batch.isStale() ? Promise.resolve({ retryInMs: 0, reason: 'stale batch' }) : this.handleBatch(batch, records);
    const run = async (): Promise<SettledOutcome> => {
      if (before !== undefined && !(await before)) throw new Error('an earlier batch of the partition was not applied; it comes again first');
      return onlyTimelineRows(records) ? this.besideTheLane(apply) : this.serially(apply);
    };
    const deferred = run();
    const applied = deferred.then(
      (outcome) => outcome === undefined,
      () => false,
    );
    const tail = applied.then((ok) => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
      this.pipelineBytes -= bytes;
      this.makeRoom();
      return ok;
    });
    this.tails.set(key, tail);
    return { deferred, proceed: Promise.resolve() };
  }

  /** Settles once the records handed over and not applied are at most PIPELINE_MAX_BYTES. */
  private async roomInPipeline(): Promise<void> {
    while (this.pipelineBytes > PIPELINE_MAX_BYTES) await new Promise<void>((go) => this.waitingForRoom.push(go));
  }

  private makeRoom(): void {
    if (this.pipelineBytes > PIPELINE_MAX_BYTES) return;
    for (const go of this.waitingForRoom.splice(0)) go();
  }

  private async handleBatch(batch: LoopBatch, records: readonly DecodedRecord[]): Promise<SettledOutcome> {
    const held = await this.held();
    if (held !== null) return held;
    let result: BatchResult<DecodedRecord>;
    try {
      result = await applyRecordBatch(
        { pool: this.opts.pool, consumer: this.groupId, onRejected: (rejected) => this.deadLetter(rejected) },
        batch.topic,
        batch.partition,
        records,
        (err) =>
          this.opts.log.warn(
            { err, topic: batch.topic, partition: batch.partition },
            'Postgres refused a record of the batch; applying record by record to set it aside',
          ),
        batch.highWatermark,
      );
    } catch (err) {
      if (!(err instanceof ProjectionAheadOfLog)) throw err;
      this.refuse(err.message, { topic: batch.topic, partition: batch.partition });
      this.clusterVerifiedAt = Date.now();
      return { retryInMs: REFUSAL_RECHECK_MS, reason: err.message };
    }
    if (this.lastRefusalLogged !== null) {
      this.opts.log.info('projecting again');
      this.lastRefusalLogged = null;
    }
    this.record(batch, result);
  }

  private lastRefusalLogged: string | null = null;

  /** Stops applying, says why (once per reason). */
  private refuse(reason: string, context: Record<string, unknown> = {}): void {
    if (this.lastRefusalLogged !== reason) this.opts.log.error(context, reason);
    this.lastRefusalLogged = reason;
    this.refusal = reason;
  }

  private async deadLetter(rejected: Array<Rejected<DecodedRecord>>): Promise<void> {
    if (rejected.length === 0) return;
    const now = new Date();
    await this.opts.producer.send(
      rejected.map(({ record, error }) => deadLetterEvent(record, this.groupId, [{ at: now.toISOString(), error }], now)),
    );
    for (const { record, error } of rejected) {
      this.opts.log.error(
        { topic: record.topic, partition: record.partition, offset: record.offset, reason: error },
        'record dead-lettered',
      );
    }
  }

  /** Metrics move only once the transaction committed, so a retried batch is not counted twice. */
  private record(batch: LoopBatch, r: BatchResult<DecodedRecord>): void {
    const { metrics } = this.opts;
    metrics.batches.inc();
    for (const [type, n] of r.applied) metrics.applied.inc({ type }, n);
    if (r.alreadyApplied > 0) metrics.skipped.inc({ reason: 'offset' }, r.alreadyApplied);
    if (r.duplicates > 0) metrics.skipped.inc({ reason: 'duplicate-id' }, r.duplicates);
    for (const { reason } of r.rejected) metrics.deadLettered.inc({ reason });
    if (r.nextOffset !== null) {
      const lag = BigInt(batch.highWatermark) - BigInt(r.nextOffset);
      metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(lag > 0n ? lag : 0n));
    }
  }
}
