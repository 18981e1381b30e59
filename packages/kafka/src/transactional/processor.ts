import { PartitionAssigners, type Admin, type Kafka, type TopicMessages, type Transaction } from 'kafkajs';
import type { Logger } from 'pino';
import { infraBackoffMs, type InfraRetryPolicy } from '@alertbus/common';
import { CoPartitionedAssigner } from '../co-partitioned';
import { ConsumeLoop, type BatchOutcome, type ConsumeLoopMetrics, type LoopBatch, type SettledOutcome } from '../consume-loop';
import type { ConsumedRecord } from '../records';
import { installAbortedRecordsFilter } from '../aborted-records';
import { installSentOffsetsGuard } from '../sent-offsets';
import { StableOffsets, type GroupOffsets } from '../stable-offsets';
import { chunkOutputs, type ChunkLimits } from './chunks';
import { FencingProducer, isFencedError, Lock, retryConcurrentTransactions } from './policy';
import { readToEnd } from './read-to-end';

/** One record to write in a transaction (kafkajs's Message), so services need not import kafkajs. */
export type OutputMessage = TopicMessages['messages'][number];

/** What one batch of input records turns into: the records to write, and what to do once they are committed. */
export interface BatchWork {
  outputs: TopicMessages[];
  /** Runs only after the transaction committed: make the batch's effects visible in memory. */
  onCommit?: () => void;
  /** Runs instead of onCommit when the batch's transaction did not commit (failed, stale, reassigned). */
  onAbort?: () => void;
}

export interface AssignedContext {
  /**
   * Calls `onRecord` for every committed record of the topic's partitions, from the beginning up to their
   * end at the time of the call. Marker records (key `markerKey`) are never passed on.
   */
  readToEnd(topic: string, partitions: number[], onRecord: (record: ConsumedRecord) => void): Promise<void>;
}

export interface TransactionInfo {
  partition: number;
  records: number;
  outputs: number;
  /** Produce calls the transaction took (split by `produceLimits`), shared by every batch it carried. */
  produceCalls: number;
  /** True for one batch of each transaction: count per-transaction figures (produceCalls) on it only. */
  firstOfTransaction: boolean;
  attempts: number;
  /** From the batch's decision to its commit: waiting for the transaction in progress, then its own. */
  durationMs: number;
  /** Where the batch's time went before that (epoch-ms differences, this process's clock). */
  stages: {
    /** From the fetch that brought it (the latest, when several topics' batches went together) to its partition's turn. */
    turnWaitMs: number;
    /** `prepare`: the service's catch-ups. */
    prepareMs: number;
    /** `handleBatch`: the service's decisions. */
    decideMs: number;
    /** The transaction that committed it, from its first request to its commit (the wait for the one before it included). */
    transactionMs: number;
  };
}

export interface TransactionalProcessorOptions {
  kafka: Kafka;
  groupId: string;
  /** The input topic; or several keyed topics, consumed co-partitioned (see `topics`). */
  topic: string | readonly string[];
  /** Stable per instance: a restarted instance fences its predecessor and aborts what it left open. */
  transactionalId: string;
  log: Logger;
  /**
   * Turns a batch into outputs. Called again from scratch when a transaction attempt fails, so it must
   * not change shared state itself; it returns such changes in `onCommit`. A batch holds records of one
   * partition number, of one input topic or several (each record says which topic; each topic's in offset order).
   */
  handleBatch: (records: ConsumedRecord[], partition: number, fetch: { fetchedAt: number }) => Promise<BatchWork> | BatchWork;
  /**
   * Awaited right before each `handleBatch` (its turn come): the place for what a decision waits for (catch-ups).
   * With `pipelineDepth` above 1, `handleBatch` must return its work synchronously and do its waiting here.
   */
  prepare?: (partition: number, fetch: { fetchedAt: number; records: readonly ConsumedRecord[] }) => Promise<void>;
  /**
   * Batches of one input topic-partition in flight at once (decided, not yet committed; default 1). Above 1, a batch's
   * decision settles its turn at once: the partition is fetched again and its next batch is decided on the previous
   * one's uncommitted effects (the service keeps them until `onCommit` or `onAbort`) while that one's transaction waits
   * or runs. Transactions still commit one at a time, in order (two may be open, see `transact`); when one fails (or a
   * rebalance drops it), every batch in flight of its partitions is aborted, newest first (`onAbort`), with the
   * transaction begun after it, and their topic-partitions are rewound to their oldest such batch, to be fetched and
   * decided again.
   */
  pipelineDepth?: number;
  /**
   * A batch was fetched and waits for its partition's turn (its `handleBatch` comes later): the place to start what
   * its decision will wait for (look-ups that may start once the fetch returned), so it overlaps the wait.
   */
  onFetched?: (partition: number, fetch: { fetchedAt: number; records: readonly ConsumedRecord[] }) => void;
  /**
   * After every group join, before any batch of the new assignment is handled, never at the same time as
   * a transaction: the place to (re)load state for the assigned partitions.
   */
  onAssigned?: (partitions: number[], ctx: AssignedContext) => Promise<void>;
  /** Key of the marker records `readToEnd` writes to find a partition's end. */
  markerKey?: string;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  transactionTimeout?: number;
  /**
   * Fetch settings. The broker answers a fetch as soon as `minBatchBytes` are there (default 1 byte: at once), else
   * after `lingerMs` (default 100 ms) while a partition is paused to be resumed soon, and after the consume loop's idle
   * wait (KAFKA_IDLE_FETCH_WAIT_MS, 1 s) while none is. Batches grow on their own under load: a partition is paused while
   * its batch commits, and what arrived meanwhile comes in its next fetch, so one transaction still carries many
   * records. An idle router's consumer makes one empty fetch a second (ten with the 100 ms wait alone, a hundred
   * with 10 ms and 16 KiB: at 50 alerts/s each fetch also waited out the linger for bytes that never came). `maxBatchBytes` bounds one partition's records in
   * a fetch, so a batch (default KafkaJS's 1 MiB): what a pipelined processor holds decided and not yet committed is
   * up to `pipelineDepth` batches a partition, and every record of a fetch keeps the whole fetch's buffer alive.
   */
  fetch?: { lingerMs?: number; minBatchBytes?: number; maxBatchBytes?: number };
  /**
   * Bounds of one produce call inside a transaction (default 900 KiB, 2,000 records): a batch's outputs can be
   * many times its input (a storm summary per alert), and one partition's records in one call must stay under
   * the broker's `message.max.bytes` (1 MiB by default), so the outputs go out in as many calls as needed,
   * one after the other, all in the batch's one transaction.
   */
  produceLimits?: Partial<ChunkLimits>;
  /** Back-off between failed attempts (transactions, state loads, restore markers); never gives up. */
  retry?: InfraRetryPolicy;
  /** The consume loop's metrics (retries, restarts) on the service's registry. */
  loopMetrics?: ConsumeLoopMetrics;
  /** Longest wait for `readToEnd` (an open transaction of a dead producer can hold the end back). */
  readToEndTimeoutMs?: number;
  /** Runs inside each batch transaction after its records were sent, before commit (tests use it to widen the window). */
  beforeCommit?: () => Promise<void>;
  onTransaction?: (info: TransactionInfo) => void;
  onRetry?: (err: Error, attempt: number, what: 'batch' | 'send-offsets') => void;
  onAssignedDone?: (partitions: number[], durationMs: number) => void;
  /**
   * Batches of different partitions decided at the same time (default 1); those decided by the time a
   * transaction starts share it. A partition number's batches (across the input topics) stay one at a time.
   */
  partitionsConcurrently?: number;
  /**
   * Decided batches that write nothing (only their input offsets move: inputs the service ignores) wait up to this long
   * for a batch that writes something, and commit in its transaction instead of one of their own (default 0: at once).
   * Nothing depends on them being committed sooner: a crash meanwhile only reads them again, to write nothing again.
   * Only with `pipelineDepth` above 1 (their partition is fetched past them meanwhile).
   */
  quietCommitDelayMs?: number;
}

/** How long the settling of a failed transaction waits for its partitions' offsets to be stable (see `settledOffsets`). */
const SETTLE_STABLE_WAIT_MS = 2_000;

const floorKey = (topic: string, partition: number) => `${topic}|${partition}`;

/** A transaction aborted because the group began rebalancing before all its records were sent. */
class RebalanceInProgress extends Error {
  constructor() {
    super('the group is rebalancing: the transaction is aborted, its batches come again');
  }
}

/** A transaction aborted because the one begun before it (whose effects its batches were decided on) did not commit. */
class PreviousNotCommitted extends Error {
  constructor() {
    super('the transaction before it did not commit: aborted, its batches come again');
  }
}

type Outcome =
  | { committed: true; produceCalls: number; transactionMs: number; first?: boolean }
  | { committed: false; error: Error }
  /** Aborted because a batch decided before it (of its partition) was not committed. */
  | { committed: false; superseded: true };

/** A turn's batches (of one partition number), decided, until their transaction commits or they are aborted. */
interface InFlight {
  batches: LoopBatch[];
  partition: number;
  work: BatchWork;
  generation: number;
  /** Settles the turn, after `onCommit` or `onAbort` ran (null: its assignment is over). */
  settle: (outcome: Outcome | null) => void;
}

/**
 * A transaction begun and not yet settled. Two may be open at once, one on each of the instance's producers: the
 * later one's requests wait for the earlier one's at three points only (see `transact`).
 */
interface OpenTransaction {
  group: InFlight[];
  /** Resolves once its records were all written (every Produce answered), or it failed before that. */
  sent: Promise<void>;
  sentDone: boolean;
  /** Resolves once its offsets were written (TxnOffsetCommit answered), or it failed before that. */
  offsetsSent: Promise<void>;
  /** Its outcome, once its batches' onCommit or onAbort ran; never rejects. */
  settled: Promise<Outcome>;
  /** It will not commit: it failed, or the transaction before it did not commit. */
  failed: boolean;
}

interface Assignment {
  generation: number;
  /** Partition numbers: with several topics, the same numbers of each (the co-partitioned assigner sees to that). */
  partitions: number[];
  /** Settles when onAssigned finished for this generation; replaced by a new attempt when it failed. */
  loaded: Promise<void> | null;
  done: boolean;
  /** Committed offset per topic and partition (key `topic|partition`), read once per generation after the load. */
  floors: Map<string, bigint>;
}

/**
 * Exactly-once consume → produce with KafkaJS transactions. For each batch: outputs and the consumed
 * offsets go out in one transaction; on failure it is aborted and the batch is decided again from
 * committed state. Uncertain outcomes (a failed commit or abort) are settled by a fresh producer with the
 * same transactionalId, which completes or aborts the old transaction, and the committed offset then
 * says which it was.
 */
export class TransactionalProcessor {
  /** The input topics; several are assigned co-partitioned, so partition p of each goes to one instance. */
  private readonly topics: readonly string[];
  /** Two transactional ids per instance (the second suffixed `.1`), used in turn; both fenced on start. */
  private readonly producers: readonly FencingProducer[];
  private turn = 0;
  private readonly loop: ConsumeLoop;
  private readonly admin: Admin;
  /** The group's committed offsets, asked with `require_stable` (see stable-offsets.ts). */
  private readonly offsets: StableOffsets;
  private readonly lock = new Lock();
  /** By partition number: the batches (of every input topic) waiting for that partition's turn, and whether it is taken. */
  private readonly turns = new Map<
    number,
    {
      waiting: Array<{
        batch: LoopBatch;
        a: Assignment;
        resolve: (outcome: SettledOutcome) => void;
        reject: (err: unknown) => void;
      }>;
      busy: boolean;
    }
  >();
  /** Decided batches not yet committed nor aborted, in the order they were decided. */
  private inflight: InFlight[] = [];
  /**
   * Pipelined: per topic-partition (`topic|partition`), the batches handed over and not yet settled, and the consume
   * loop's `proceed` of those waiting for room (the partition is fetched past a batch while fewer than `depth` are).
   */
  private readonly handedOver = new Map<string, { count: number; waiting: Array<() => void> }>();
  private readonly depth: number;
  /** Decided batches waiting for the next transaction. */
  private pending: InFlight[] = [];
  /** A transaction is being begun (until its records are written). */
  private beginning = false;
  /** Transactions begun and not yet settled, oldest first: two at most (see `drain`). */
  private open: OpenTransaction[] = [];
  /** Commits the pending batches once the quiet ones among them have waited `quietCommitDelayMs` (see `drain`). */
  private quietTimer: NodeJS.Timeout | null = null;
  /**
   * Between this member's leaving its generation (the group rebalances) and its next assignment: no transaction
   * commits then. Batches are deferred (the fetch goes on while they commit), so KafkaJS does not wait for them
   * before rejoining; a partition may move meanwhile, and its next owner restores state only from what was
   * written before it looked. A transaction whose records were all sent before the rebalance began may commit
   * (the next owner's restore waits for it to settle); any other is aborted and its batches come again.
   */
  private rebalancing = false;
  /**
   * When the group coordinator last took this member's heartbeat (or its join), on a monotonic clock. Past the session
   * timeout since then, the coordinator has dropped the member and may have given its partitions to another, which
   * decides the same records: KafkaJS's TxnOffsetCommit carries no generation and each instance has its own
   * transactional id, so neither the broker nor the new owner's producer fences this one. A frozen process (a long
   * pause, a stopped VM) would commit its batch on waking, a second time. Its transaction is aborted instead.
   */
  private aliveAt = performance.now();
  private assignment: Assignment | null = null;
  private generation = 0;
  private stopping = false;
  /** Aborts a readToEnd in progress (on stop). */
  private cancelRead: ((err: Error) => void) | null = null;
  private resolveReady!: () => void;
  /** Resolves once the first assignment has been loaded (onAssigned done). */
  readonly ready: Promise<void>;
  /** CONCURRENT_TRANSACTIONS answers retried in place, for tests and metrics. */
  concurrentTransactionRetries = 0;
  private readonly produceLimits: ChunkLimits;
  /**
   * Whether a transaction may begin while the previous one commits: only with KafkaJS's read_committed filter mended
   * (`aborted-records.ts`), which otherwise passes on records of an aborted transaction interleaved with another's.
   */
  private readonly overlap = installAbortedRecordsFilter();

  constructor(private readonly opts: TransactionalProcessorOptions) {
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    // Without it, a partition kept across a rejoin could be fetched from the offsets of a transaction that then aborted.
    if (!installSentOffsetsGuard()) opts.log.error('KafkaJS is not the version alertbus mends: offsets of an aborted transaction may move this group\'s consumer');
    this.produceLimits = { maxBytes: opts.produceLimits?.maxBytes ?? 900 * 1024, maxRecords: opts.produceLimits?.maxRecords ?? 2_000 };
    this.depth = Math.max(1, Math.floor(opts.pipelineDepth ?? 1));
    this.topics = typeof opts.topic === 'string' ? [opts.topic] : [...opts.topic];
    if (this.topics.length === 0) throw new Error('TransactionalProcessor needs at least one topic');
    this.offsets = new StableOffsets(opts.kafka);
    this.admin = this.offsets.admin;
    if (!this.offsets.stable) opts.log.error('not a client of createKafka: the floors of a partition taken over may miss its last transaction\'s offsets');
    this.producers = [
      new FencingProducer(opts.kafka, opts.transactionalId, opts.transactionTimeout),
      new FencingProducer(opts.kafka, `${opts.transactionalId}.1`, opts.transactionTimeout),
    ];
    this.loop = new ConsumeLoop({
      kafka: opts.kafka,
      groupId: opts.groupId,
      topics: this.topics,
      log: opts.log,
      // The transaction commits the offsets with the outputs.
      commit: 'none',
      retry: opts.retry,
      metrics: opts.loopMetrics,
      consumer: {
        // Round robin stays second so a group being upgraded (old members without the co-partitioned
        // assigner) still finds a common protocol.
        partitionAssigners: [CoPartitionedAssigner, PartitionAssigners.roundRobin],
        sessionTimeout: opts.sessionTimeout ?? 30_000,
        heartbeatInterval: opts.heartbeatInterval ?? 1_000,
        readUncommitted: false,
        maxWaitTimeInMs: opts.fetch?.lingerMs ?? 100,
        minBytes: opts.fetch?.minBatchBytes ?? 1,
        ...(opts.fetch?.maxBatchBytes !== undefined ? { maxBytesPerPartition: opts.fetch.maxBatchBytes } : {}),
        partitionsConcurrently: opts.partitionsConcurrently ?? 1,
      },
      onHeartbeat: () => {
        this.aliveAt = performance.now();
      },
      onRebalancing: () => {
        this.rebalancing = true;
        // Quiet batches waiting for company are dropped now (their next owner reads them again), not at their timer.
        this.drain();
      },
      onAssigned: (assignment) => this.onGroupJoin([...new Set(this.topics.flatMap((t) => assignment[t] ?? []))]),
      handleBatch: (batch) => this.handle(batch),
    });
  }

  /** Null while consuming normally (or restoring), else why not. */
  problem(): string | null {
    return this.loop.problem();
  }

  get isReady(): boolean {
    return this.assignment?.done === true && this.loop.problem() === null;
  }

  async start(): Promise<void> {
    await this.admin.connect();
    for (const p of this.producers) await p.renew();
    await this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.cancelRead?.(new Error('processor stopping'));
    // Quiet batches waiting for company commit now.
    this.drain();
    await this.loop.stop();
    await this.lock.run(async () => {
      await this.openSettled();
      await Promise.all(this.producers.map((p) => p.disconnect()));
    });
    await this.admin.disconnect().catch(() => undefined);
  }

  /** No heartbeat taken for longer than the session timeout: the coordinator has dropped this member (see aliveAt). */
  private sessionLapsed(): boolean {
    return performance.now() - this.aliveAt > (this.opts.sessionTimeout ?? 30_000);
  }

  private onGroupJoin(partitions: number[]): void {
    this.rebalancing = false;
    this.aliveAt = performance.now();
    const generation = ++this.generation;
    this.assignment = { generation, partitions: [...partitions].sort((a, b) => a - b), loaded: null, done: false, floors: new Map() };
    this.opts.log.info({ partitions, generation }, 'partitions assigned');
    void this.load(this.assignment).catch(() => undefined);
  }

  private load(a: Assignment, attempt = 1): Promise<void> {
    if (a.loaded) return a.loaded;
    const started = Date.now();
    a.loaded = this.lock.run(async () => {
      // No transaction is open while state loads: the ones still committing settle first (the lock keeps new ones out).
      await this.openSettled();
      if (a.generation !== this.generation) return;
      await this.opts.onAssigned?.(a.partitions, {
        readToEnd: (topic, partitions, onRecord) =>
          readToEnd(
            {
              kafka: this.opts.kafka,
              admin: this.admin,
              groupId: this.opts.groupId,
              log: this.opts.log,
              producer: this.producers[0],
              markerKey: this.opts.markerKey,
              retry: this.opts.retry,
              sessionTimeout: this.opts.sessionTimeout,
              heartbeatInterval: this.opts.heartbeatInterval,
              timeoutMs: this.opts.readToEndTimeoutMs,
              setCancel: (cancel) => (this.cancelRead = cancel),
            },
            topic,
            partitions,
            onRecord,
          ),
      });
      // Our own earlier transactions are all complete now (the load's marker transaction came after them). A previous
      // owner's last transaction may still be moving its offsets into the group's (its records already read above):
      // asked stable, the broker says so and the floors wait for it. Records below the floors were already processed.
      if (a.partitions.length > 0) {
        const offsets = await this.offsets.fetch(
          this.opts.groupId,
          this.topics.map((topic) => ({ topic, partitions: a.partitions })),
          {
            cancelled: () => (this.stopping ? new Error('processor stopping') : a.generation !== this.generation ? new Error('assignment replaced') : null),
            onWait: (pending, waitedMs) => this.opts.log.info({ pending, waitedMs }, 'waiting for a transaction to settle the offsets of partitions taken over'),
          },
        );
        for (const t of offsets) for (const p of t.partitions) a.floors.set(floorKey(t.topic, p.partition), BigInt(p.offset));
      }
      a.done = true;
      this.opts.onAssignedDone?.(a.partitions, Date.now() - started);
      this.resolveReady();
    });
    a.loaded.catch((err) => {
      a.loaded = null;
      if (this.stopping || a.generation !== this.generation) return;
      const wait = infraBackoffMs(attempt, this.opts.retry);
      this.opts.log.warn({ err, generation: a.generation, attempt, retryInMs: wait }, 'loading the assigned partitions failed; will retry');
      setTimeout(() => void this.load(a, attempt + 1).catch(() => undefined), wait).unref();
    });
    return a.loaded;
  }

  /**
   * One batch: decided from committed state, written with its input offsets in one transaction. A failed
   * transaction is thrown to the consume loop, which pauses the partition and hands the same records over
   * again after a back-off (decided again from committed state): never skipped, however long Kafka is away.
   * Batches of one partition number (of every input topic: they share the partition's state) are decided and
   * committed one at a time, in order; batches of other partitions are decided meanwhile and share the next
   * transaction (see `drain`). With `pipelineDepth` above 1, a turn ends once its batches are decided.
   */
  private handle(batch: LoopBatch): Promise<BatchOutcome> {
    const a = this.assignment;
    if (!a || !a.done) {
      if (a) void this.load(a).catch(() => undefined);
      return Promise.resolve({ retryInMs: 100, reason: 'restoring state' });
    }
    // Deferred: the consume loop keeps this partition paused until the batch is committed (or is to be tried
    // again) and meanwhile hands over the other partitions' next batches, which are decided while this one's
    // transaction commits and join the next one, instead of waiting for every batch of this fetch to commit.
    this.opts.onFetched?.(batch.partition, { fetchedAt: batch.fetchedAt, records: batch.records });
    const deferred = new Promise<SettledOutcome>((resolve, reject) => {
      let turn = this.turns.get(batch.partition);
      if (!turn) this.turns.set(batch.partition, (turn = { waiting: [], busy: false }));
      turn.waiting.push({ batch, a, resolve, reject });
      this.nextTurn(batch.partition);
    });
    if (this.depth <= 1) return Promise.resolve({ deferred });
    // Pipelined: the partition is fetched past this batch at once while fewer than `depth` of its batches are pending,
    // so its next records come while this one waits for its turn, its decision or its commit.
    const key = floorKey(batch.topic, batch.partition);
    let slot = this.handedOver.get(key);
    if (!slot) this.handedOver.set(key, (slot = { count: 0, waiting: [] }));
    const mine = slot;
    mine.count += 1;
    const proceed = new Promise<void>((resolve) => mine.waiting.push(resolve));
    this.makeRoom(mine);
    const done = () => {
      mine.count -= 1;
      this.makeRoom(mine);
    };
    deferred.then(done, done);
    return Promise.resolve({ deferred, proceed });
  }

  /**
   * Lets the consume loop fetch past the oldest batch waiting for it while fewer than `depth` batches of the
   * topic-partition are pending, itself included: so at most `depth` ever are.
   */
  private makeRoom(slot: { count: number; waiting: Array<() => void> }): void {
    let ahead = slot.count - slot.waiting.length;
    while (slot.waiting.length > 0 && ahead + 1 < this.depth) {
      slot.waiting.shift()!();
      ahead += 1;
    }
  }

  /**
   * A partition number's turn: every batch waiting for it (one per input topic at most, each topic-partition being
   * paused while its batch is pending) is decided as one, against that partition's committed state, and committed
   * in one transaction, instead of one after the other with a commit between each.
   */
  private nextTurn(partition: number): void {
    const turn = this.turns.get(partition);
    if (!turn || turn.busy || turn.waiting.length === 0) return;
    const a = turn.waiting[0]!.a;
    const together = turn.waiting.filter((w) => w.a === a);
    turn.waiting = turn.waiting.filter((w) => w.a !== a);
    turn.busy = true;
    // Pipelined, the turn ends once the batches are decided; else once they are committed (or not).
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      turn.busy = false;
      this.nextTurn(partition);
    };
    void this.handleTogether(
      together.map((w) => w.batch),
      a,
      release,
    )
      .then(
        (outcome) => together.forEach((w) => w.resolve(outcome)),
        (err: unknown) => together.forEach((w) => w.reject(err)),
      )
      .finally(release);
  }

  private async handleTogether(batches: LoopBatch[], a: Assignment, release: () => void): Promise<SettledOutcome> {
    const partition = batches[0]!.partition;
    const records = batches.flatMap((batch) => {
      const floor = a.floors.get(floorKey(batch.topic, batch.partition)) ?? -1n;
      return batch.records.filter((r) => BigInt(r.offset) >= floor);
    });
    if (records.length === 0) return;
    const fetchedAt = Math.max(...batches.map((b) => b.fetchedAt));
    const turnAt = Date.now();
    // Silences and the like are looked up after the latest of these fetches returned.
    await this.opts.prepare?.(partition, { fetchedAt, records });
    const prepared = Date.now();
    if (batches.some((b) => b.isStale()) || this.stopping) return { retryInMs: 0, reason: 'stale batch' };
    const handled = this.opts.handleBatch(records, partition, { fetchedAt });
    let work: BatchWork;
    if (handled instanceof Promise) {
      if (this.depth > 1) throw new Error('with pipelineDepth above 1, handleBatch must return its work synchronously');
      work = await handled;
      if (batches.some((b) => b.isStale()) || this.stopping) {
        work.onAbort?.();
        return { retryInMs: 0, reason: 'stale batch' };
      }
    } else {
      work = handled;
    }
    const started = Date.now();
    // Registered in the same tick as decided: an abort of the batches before it sees it.
    const outcome = await new Promise<Outcome | null>((settle) => {
      const entry: InFlight = { batches, partition, work, generation: a.generation, settle };
      this.inflight.push(entry);
      this.pending.push(entry);
      if (this.depth > 1) release();
      this.drain();
    });
    if (outcome === null) return { retryInMs: 0, reason: 'partitions reassigned' };
    if (!outcome.committed && 'superseded' in outcome) return { retryInMs: 0, reason: 'an earlier batch of its partition was not committed' };
    if (!outcome.committed && outcome.error instanceof RebalanceInProgress) return { retryInMs: 0, reason: outcome.error.message };
    if (!outcome.committed) {
      this.opts.onRetry?.(outcome.error, 1, 'batch');
      throw outcome.error;
    }
    this.opts.onTransaction?.({
      partition,
      records: records.length,
      outputs: work.outputs.reduce((n, t) => n + t.messages.length, 0),
      produceCalls: outcome.produceCalls,
      firstOfTransaction: outcome.first === true,
      attempts: 1,
      durationMs: Date.now() - started,
      stages: { turnWaitMs: Math.max(0, turnAt - fetchedAt), prepareMs: prepared - turnAt, decideMs: started - prepared, transactionMs: outcome.transactionMs },
    });
  }

  /** Takes a settled entry out of the in-flight bookkeeping. */
  private remove(entry: InFlight): void {
    const k = this.inflight.indexOf(entry);
    if (k >= 0) this.inflight.splice(k, 1);
    const p = this.pending.indexOf(entry);
    if (p >= 0) this.pending.splice(p, 1);
  }

  /**
   * `failed` did not commit: they, and every batch in flight of their partitions decided after the first of them (decided
   * on top of them), are aborted, newest first; each topic-partition is rewound to its oldest aborted batch (the consume
   * loop fetches it again). A batch of the partition decided before them is left to its own transaction: waiting batches
   * dropped at a rebalance may have one still open before them, whose records were all sent and which may commit.
   * `outcomeOf` says how each of `failed` settles; the others settle as superseded.
   */
  private abort(failed: InFlight[], outcomeOf: (entry: InFlight) => Outcome | null): void {
    // Each entry is settled once: a transaction's batches may have been aborted already with the one before it.
    failed = failed.filter((e) => this.inflight.includes(e));
    if (failed.length === 0) return;
    // In the order decided: from each partition's first failed batch on.
    const from = new Map<number, number>();
    this.inflight.forEach((e, k) => {
      if (failed.includes(e) && !from.has(e.partition)) from.set(e.partition, k);
    });
    const aborted = this.inflight.filter((e, k) => failed.includes(e) || k > (from.get(e.partition) ?? Infinity));
    for (const e of [...aborted].reverse()) {
      try {
        e.work.onAbort?.();
      } catch (err) {
        this.opts.log.error({ err, partition: e.partition }, 'undoing an aborted batch failed');
      }
    }
    const rewound = new Set<string>();
    for (const e of aborted) {
      for (const b of e.batches) {
        const key = floorKey(b.topic, b.partition);
        if (rewound.has(key) || this.depth <= 1) continue;
        rewound.add(key);
        b.rewind();
      }
    }
    for (const e of aborted) this.remove(e);
    for (const e of aborted) e.settle(failed.includes(e) ? outcomeOf(e) : { committed: false, superseded: true });
  }

  /**
   * Group commit: a decided batch joins the next transaction, with every other batch decided by the time it
   * starts (those of one fetch, and those decided while the previous transaction was committing). One
   * transaction costs the same round trips and markers whatever it holds, so a fetch's batches cost one
   * transaction instead of one each, and deciding overlaps committing. They commit or fail together; a
   * batch of a reassignment that is over settles as null. Transactions commit one at a time, in the order decided;
   * the next one begins (on the instance's other producer) as soon as the previous one's records are written, so its
   * records and offsets go out while that one's offsets and commit are under way (see `transact`).
   */
  private drain(force = false): void {
    if (this.beginning || this.pending.length === 0 || !this.mayBegin()) return;
    if (!force && this.waitsForCompany()) return;
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = null;
    this.beginning = true;
    // The batches of one fetch are decided side by side: let those decided in this turn join.
    setImmediate(() => {
      void this.lock
        .run(async () => {
          const dead = this.pending.filter((g) => this.rebalancing || g.generation !== this.generation);
          if (dead.length > 0) this.abort(dead, () => null);
          // The open transaction may have failed meanwhile: its settling calls drain again.
          if (!this.mayBegin()) return;
          const group = this.pending.splice(0, this.pending.length);
          if (group.length === 0) return;
          // The lock is held until the records are written: a state load waits for every open transaction anyway.
          await this.begin(group).sent;
        })
        .catch((err: Error) => this.opts.log.error({ err }, 'beginning a transaction failed'))
        .finally(() => {
          this.beginning = false;
          this.drain();
        });
    });
  }

  /**
   * Whether a transaction may begin now: none is open, or one is, whose records are all written and which may still
   * commit (after a failure, the next one begins once the failed ones are settled). Two at most: one per producer.
   */
  private mayBegin(): boolean {
    if (this.open.length === 0) return true;
    if (this.open.length >= this.producers.length || !this.overlap) return false;
    const last = this.open[this.open.length - 1]!;
    return last.sentDone && !last.failed;
  }

  /** Settles once no transaction is open (never rejects). */
  private async openSettled(): Promise<void> {
    while (this.open.length > 0) await Promise.all(this.open.map((t) => t.settled));
  }

  /**
   * Begins a transaction of `group` after the one open, if any (`previous`); its batches' onCommit runs after the
   * previous one's, in the order decided. A transaction that does not commit aborts its batches and every batch decided
   * after them on their partitions; and the transaction begun after it too, with every batch it carries (they may have
   * been decided on the failed one's effects).
   */
  private begin(group: InFlight[]): OpenTransaction {
    const previous = this.open[this.open.length - 1];
    let sent!: () => void;
    let offsetsSent!: () => void;
    const t: OpenTransaction = {
      group,
      sent: new Promise<void>((resolve) => (sent = resolve)),
      sentDone: false,
      offsetsSent: new Promise<void>((resolve) => (offsetsSent = resolve)),
      settled: null as unknown as Promise<Outcome>,
      failed: false,
    };
    const markSent = () => {
      t.sentDone = true;
      sent();
    };
    this.open.push(t);
    t.settled = (async (): Promise<Outcome> => {
      const begun = Date.now();
      let outcome: Outcome = await this.transact(group, t, previous, { sent: markSent, offsetsSent }).then(
        (o): Outcome => (o.committed ? { ...o, transactionMs: Date.now() - begun } : o),
        (err: Error): Outcome => ({ committed: false, error: err }),
      );
      markSent();
      offsetsSent();
      if (!outcome.committed) t.failed = true;
      // Outcomes are applied in the order the transactions began.
      const before = previous ? await previous.settled : null;
      if (before && !before.committed && outcome.committed) {
        // Cannot happen (a transaction commits only after the one before it did); never apply it over an abort.
        this.opts.log.error('a transaction committed after the one before it did not; its batches are aborted');
        outcome = { committed: false, error: new PreviousNotCommitted() };
      }
      try {
        if (!outcome.committed) {
          const failure = outcome;
          const next = this.open[this.open.indexOf(t) + 1];
          if (next) next.failed = true;
          // The next transaction will not commit (it waits for this one's outcome): its batches go now, newest first.
          this.abort([...group, ...(next?.group ?? [])], (e) => (group.includes(e) ? failure : { committed: false, superseded: true }));
          return outcome;
        }
        // In the order decided: a later batch's effects go over an earlier one's.
        for (const g of group) {
          try {
            g.work.onCommit?.();
          } catch (err) {
            this.opts.log.error({ err, partition: g.partition }, 'applying a committed batch failed');
          }
          this.remove(g);
        }
        const committed = outcome;
        group.forEach((g, k) => g.settle(k === 0 ? { ...committed, first: true } : committed));
        return outcome;
      } catch (err) {
        const left = group.filter((g) => this.inflight.includes(g));
        if (left.length > 0) this.abort(left, () => ({ committed: false, error: err as Error }));
        return { committed: false, error: err as Error };
      } finally {
        this.open.splice(this.open.indexOf(t), 1);
        // The next may begin (or commit).
        queueMicrotask(() => this.drain());
      }
    })();
    return t;
  }

  /**
   * Whether every pending batch writes nothing, so they wait (up to `quietCommitDelayMs`, then commit anyway) for a batch
   * that writes something to share its transaction: a transaction costs three sequential steps (five requests) and a commit marker on every
   * partition it touches, whatever it carries, and inputs that change nothing need not cost one each.
   */
  private waitsForCompany(): boolean {
    const delay = this.opts.quietCommitDelayMs ?? 0;
    // Unpipelined, a waiting batch would hold its partition's next one back.
    if (delay <= 0 || this.depth <= 1 || this.stopping || this.rebalancing) return false;
    if (this.pending.some((e) => e.generation !== this.generation || e.work.outputs.some((t) => t.messages.length > 0))) return false;
    this.quietTimer ??= setTimeout(() => {
      this.quietTimer = null;
      this.drain(true);
    }, delay);
    this.quietTimer.unref();
    return true;
  }

  private async sendOffsets(tx: Transaction, topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>): Promise<void> {
    await retryConcurrentTransactions(() => tx.sendOffsets({ consumerGroupId: this.opts.groupId, topics }), {
      onRetry: (err, attempt) => {
        this.concurrentTransactionRetries += 1;
        this.opts.onRetry?.(err, attempt, 'send-offsets');
      },
    });
  }

  /**
   * One transaction: the batches' outputs and the next offset to read of each, sent together, then commit. With a transaction open
   * before it (`previous`, on the other producer), its requests wait for that one's at three points, and only there:
   * - its records go out once all of the previous one's were written (`drain` begins it only then), so each partition
   *   gets the records of both in the order decided;
   * - its offsets go out once the previous one's were written: when both commit, the group coordinator keeps the offset
   *   commit appended last, which must be the later one's;
   * - it commits once the previous one committed, and aborts if that one did not (its batches may have been decided on
   *   that one's effects): a transaction never commits on top of one that did not.
   * So the next transaction's records and offsets go out while this one's offsets and commit are under way, instead of
   * after. A read_committed consumer stops at the first open transaction: the later one's records, although written,
   * are read only after both committed, in order. Both are bounded by the transaction timeout as any one is.
   */
  private async transact(
    entries: InFlight[],
    self: OpenTransaction,
    previous: OpenTransaction | undefined,
    hooks: { sent: () => void; offsetsSent: () => void },
  ): Promise<{ committed: true; produceCalls: number } | { committed: false; error: Error }> {
    const byTopic = new Map<string, OutputMessage[]>();
    for (const e of entries) {
      for (const t of e.work.outputs) {
        if (t.messages.length === 0) continue;
        const list = byTopic.get(t.topic);
        if (list) list.push(...t.messages);
        else byTopic.set(t.topic, [...t.messages]);
      }
    }
    // The offset after each topic-partition's latest batch in the transaction (a pipelined partition may have several).
    const nextOf = new Map<string, { topic: string; partition: number; next: string }>();
    for (const e of entries) {
      for (const b of e.batches) {
        const key = floorKey(b.topic, b.partition);
        const known = nextOf.get(key);
        if (!known || BigInt(b.nextOffset) > BigInt(known.next)) nextOf.set(key, { topic: b.topic, partition: b.partition, next: b.nextOffset });
      }
    }
    const batches = [...nextOf.values()];
    const offsets = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const b of batches) {
      const list = offsets.get(b.topic);
      if (list) list.push({ partition: b.partition, offset: b.next });
      else offsets.set(b.topic, [{ partition: b.partition, offset: b.next }]);
    }
    let tx: Transaction | undefined;
    let current: FencingProducer | undefined;
    try {
      // Transactions take turns between the instance's two producers: two may be open at once (one each, see above),
      // and right after a commit the coordinator answers the same producer's next transaction with
      // CONCURRENT_TRANSACTIONS until the commit's markers are written, a wait the other producer does not have.
      const fp = this.producers[this.turn]!;
      this.turn = 1 - this.turn;
      current = fp;
      const producer = await fp.get();
      tx = await producer.transaction();
      // One call after the other: each partition gets its records in order, and all are in this transaction.
      const chunks = chunkOutputs([...byTopic].map(([topic, messages]) => ({ topic, messages })), this.produceLimits);
      const rebalancedDuringSends = () =>
        this.rebalancing || entries.some((e) => e.generation !== this.generation) || this.sessionLapsed();
      const open = tx;
      // The records and the offsets go out together: within one transaction neither waits for the other (the coordinator
      // commits or aborts both as one), so a transaction costs three sequential steps (AddPartitionsToTxn and
      // AddOffsetsToTxn, then Produce and TxnOffsetCommit, then EndTxn) instead of five. Both must have settled before
      // the transaction ends either way: an abort (or commit) sent while a TxnOffsetCommit is still on its way could let
      // that offset reach the group coordinator after the markers, pending for this producer's next transaction.
      // The first failure of either is the transaction's; the other stops at its next step (it is aborted anyway).
      let failure: { err: unknown } | null = null;
      const records = (async () => {
        for (const topicMessages of chunks) {
          if (self.failed || failure) throw new PreviousNotCommitted();
          await open.sendBatch({ topicMessages, acks: -1 });
          if (rebalancedDuringSends()) throw new RebalanceInProgress();
        }
        hooks.sent();
      })();
      const offsetsWritten = (async () => {
        if (previous) await previous.offsetsSent;
        if (self.failed || failure) throw new PreviousNotCommitted();
        await this.sendOffsets(open, [...offsets].map(([topic, partitions]) => ({ topic, partitions })));
        hooks.offsetsSent();
      })();
      const noteFailure = (err: unknown) => void (failure ??= { err });
      records.catch(noteFailure);
      offsetsWritten.catch(noteFailure);
      await Promise.allSettled([records, offsetsWritten]);
      if (failure) throw (failure as { err: unknown }).err;
      if (rebalancedDuringSends()) throw new RebalanceInProgress();
      if (previous && !(await previous.settled).committed) throw new PreviousNotCommitted();
      await this.opts.beforeCommit?.();
      await tx.commit();
      return { committed: true, produceCalls: chunks.length };
    } catch (err) {
      const error = err as Error;
      if (tx?.isActive() && !isFencedError(err)) {
        try {
          await tx.abort();
          return { committed: false, error };
        } catch (abortErr) {
          this.opts.log.warn({ err: abortErr }, 'abort failed; settling the transaction with a new producer');
        }
      }
      // The transaction's fate is unknown here (commit or abort failed midway, or the producer is stuck in
      // COMMITTING/ABORTING, which KafkaJS never leaves). A fresh producer settles it; the offsets tell.
      current?.markBroken();
      try {
        await current?.renew();
        const committed = await this.settledOffsets(batches);
        const at = new Map(committed.flatMap((t) => t.partitions.map((p) => [floorKey(t.topic, p.partition), BigInt(p.offset)] as const)));
        // One transaction: its offsets were all committed, or none was.
        if (batches.every((b) => (at.get(floorKey(b.topic, b.partition)) ?? -1n) >= BigInt(b.next))) return { committed: true, produceCalls: 0 };
      } catch (settleErr) {
        this.opts.log.warn({ err: settleErr }, 'could not settle the failed transaction yet');
      }
      return { committed: false, error };
    }
  }

  /**
   * The group's offsets for the partitions of `batches`, once the renewed producer has settled their transaction: asked
   * stable, so an offset the commit is still moving into the group is not read as the one before it. Our next
   * transaction may hold pending offsets for the same partitions while it waits for this one (see `transact`): past a
   * short bound the plain offsets are taken, as committed as the broker knows them then.
   */
  private async settledOffsets(batches: ReadonlyArray<{ topic: string; partition: number }>): Promise<GroupOffsets[]> {
    const byTopic = new Map<string, Set<number>>();
    for (const b of batches) {
      let parts = byTopic.get(b.topic);
      if (!parts) byTopic.set(b.topic, (parts = new Set()));
      parts.add(b.partition);
    }
    const topics = [...byTopic].map(([topic, parts]) => ({ topic, partitions: [...parts] }));
    return this.offsets.fetch(this.opts.groupId, topics, {
      maxWaitMs: SETTLE_STABLE_WAIT_MS,
      plainAfterWait: true,
      onPlain: (pending) => this.opts.log.warn({ pending }, 'offsets still pending after the failed transaction was settled; reading them as committed now'),
    });
  }
}
