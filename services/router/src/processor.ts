import {
  assertValid,
  decodeEnvelope,
  GROUPS,
  HEADERS,
  KEYED_PARTITIONS,
  ROUTER_STATE_MARKER_KEY,
  topicOf,
  TOPICS,
  type AliasState,
  type AnyEnvelope,
} from '@alertbus/schemas';
import {
  deadLetterEvent,
  toMessage,
  TransactionalProcessor,
  type AssignedContext,
  type BatchWork,
  type ConsumedRecord,
  type OutputMessage,
  type createKafka,
} from '@alertbus/kafka';
import type { Logger } from 'pino';
import type { InfraRetryPolicy } from '@alertbus/common';
import {
  decide,
  isIncidentEvent,
  isIncidentState,
  isSuppressedFiring,
  SLACK_INPUT_TYPES,
  type RouterInput,
  type RouterState,
  DEFAULT_STATE_RETENTION_MS,
  EVICTION_GRACE_MS,
  ExpiryQueue,
  expiresAt,
  StateIndex,
  packState,
  unpackState,
  PackedStore,
  type PackedState,
  type SilenceLookup,
  type SuppressedFiring,
  type CompiledRules,
  type SharedFact,
  stormSummaryKey,
  summaryStale,
  silenceEnded,
  freedInhibitedFirings,
  type TickedStorm,
} from '@alertbus/routing';
import type { RouterMetrics } from './metrics';
import { decodeState, stateMessage } from './state-codec';
import { sharedFactMessage } from './shared-facts';

export interface RouterProcessorOptions {
  kafka: ReturnType<typeof createKafka>;
  log: Logger;
  /** The rules in force, read at the start of every batch: a reload applies from the next batch on. */
  rules: () => CompiledRules;
  /** The silences known, and a wait until every silence written so far has been read. */
  silences?: {
    lookup: SilenceLookup;
    catchUp(timeoutMs: number, sinceMs?: number): Promise<boolean>;
    /** Starts the look-up of the topic's end that a catch-up since `sinceMs` will wait for. */
    lookAhead?(sinceMs: number): void;
    prune?(beforeMs: number): number;
  };
  /** Longest wait for the silences topic before a batch is decided with what is known (default 5 s). */
  silencesCatchUpTimeoutMs?: number;
  /**
   * The other instances' incidents (router.shared.v1): how far it was read, and a wait until every fact written so
   * far (open transactions included) has been read. Facts reach the processor through `applySharedFact`.
   */
  shared?: { offset(): string; catchUp(timeoutMs: number, sinceMs?: number): Promise<boolean>; lookAhead?(sinceMs: number): void };
  /** Longest wait for router.shared.v1 before a batch is decided with what is known (default 5 s). */
  sharedCatchUpTimeoutMs?: number;
  metrics: RouterMetrics;
  /** Part of the transactionalId; two live instances must never share one. */
  instanceId: string;
  sessionTimeoutMs?: number;
  retry?: InfraRetryPolicy;
  /** Tests only: wait this long inside each transaction before committing, so kill -9 lands in open ones. */
  chaosCommitDelayMs?: number;
  /** ROUTER_STATE_RETENTION: resolved incidents and Slack records are forgotten this long after, by event time. */
  retentionMs?: number;
  /** SILENCE_MAX_DURATION: the longest silence a slash command may set (default SLASH_SILENCE_MAX_MS). */
  silenceMaxMs?: number;
  /**
   * ROUTER_PIPELINE_DEPTH: batches of an input partition in flight at once (default 6). Above 1, a partition's next
   * batch is fetched and decided on the previous one's uncommitted states while that one's transaction waits or runs.
   */
  pipelineDepth?: number;
  /**
   * ROUTER_FETCH_BATCH_BYTES: most bytes of one input partition's records a fetch takes (default
   * DEFAULT_FETCH_BATCH_BYTES), so the largest batch; the router holds up to `pipelineDepth` of them a partition.
   */
  fetchBatchBytes?: number;
}

/** A decided batch's states not yet committed, by key (undefined: forgotten), over the committed ones. */
interface Overlaid {
  packed: PackedState | undefined;
  /** The batch that wrote it. */
  owner: { committed: boolean };
}

/** A batch's decided events as the metrics count them: each one's type, and its reason when it is an incident event (else null). */
interface DecidedCounts {
  types: string[];
  reasons: Array<string | null>;
}

/** One transaction's writes, in the order they were made: decided events, dead letters, state records. */
type Writes = Array<{ topic: string; message: OutputMessage }>;

/** The event's JSON as UTF-8 bytes, made once: a storm summary is kilobytes, and a string is measured again per record downstream. */
const eventWrite = (e: AnyEnvelope) => ({ topic: topicOf(e.type), message: toMessage(e, Buffer.from(JSON.stringify(e))) });

/**
 * Whether a key's state after a batch (`json` is its JSON) is the one it had before: an incident decided on an input
 * records that input's id (`lastInputId`), so a different id means a change without comparing the two as JSON.
 */
function unchanged(state: RouterState, original: RouterState | undefined, json: string): boolean {
  if (original === undefined) return false;
  if (isIncidentState(state) && isIncidentState(original) && state.lastInputId !== original.lastInputId) return false;
  return json === JSON.stringify(original);
}

/** Topic → messages, each topic's in write order, as the transactional processor takes them. */
function byTopic(writes: Writes): BatchWork['outputs'] {
  const topics = new Map<string, OutputMessage[]>();
  for (const { topic, message } of writes) {
    const list = topics.get(topic) ?? [];
    list.push(message);
    topics.set(topic, list);
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * The router's input topics, all keyed by alias and consumed co-partitioned: partition p of each goes to
 * one instance, which holds the state of partition p's keys. deliveries.v1 is read for two facts only: the
 * slack-sink posted an incident's root message (the thread `ack` / `resolve` may be typed in), and the pager sink
 * created an incident's pager alert (its id tells the pager's actions on it from an earlier alert's). router.ticks.v1
 * holds the ticks the router writes itself (src/storm-ticker.ts), keyed by the storm summary they are for.
 */
export const ROUTER_INPUT_TOPICS = [TOPICS.alertsReceived, TOPICS.slackReceived, TOPICS.deliveries, TOPICS.notifications, TOPICS.routerTicks] as const;

/** Input batches decided at the same time: one per input partition (a partition number's batches still go one at a time). */
export const ROUTER_PARTITIONS_CONCURRENTLY = ROUTER_INPUT_TOPICS.length * KEYED_PARTITIONS;

/**
 * Batches of an input partition in flight at once (ROUTER_PIPELINE_DEPTH): the next is decided while one commits. A
 * partition with this many in flight is paused, and KafkaJS fetches it again only after the fetch then in flight returns
 * (up to its linger), so a shallow pipeline adds that wait whenever commits fall behind the partition's records.
 */
export const DEFAULT_PIPELINE_DEPTH = 6;

/**
 * Most bytes of one input partition's records a fetch takes (ROUTER_FETCH_BATCH_BYTES), so the most a batch holds.
 * The router keeps a batch's records, its decisions and their encoded outputs until its transaction commits, up to
 * DEFAULT_PIPELINE_DEPTH batches a partition: at KafkaJS's 1 MiB, a storm of 20,000 alerts had some 15,000 of them
 * fetched, decided and uncommitted at once, and the router reached 270–400 MB RSS (bench/README.md, "Fourteenth run
 * — router memory in the storm"). 64 KiB is still some 30 alerts of a storm a batch, and batches of several
 * partitions share a transaction.
 */
export const DEFAULT_FETCH_BATCH_BYTES = 64 * 1024;

/**
 * How long a decided batch that writes nothing waits for one that writes something to commit with (see
 * `quietCommitDelayMs`): under load one comes within milliseconds; idle, the offsets move half a second later.
 */
export const QUIET_COMMIT_DELAY_MS = 500;

/**
 * Whether deciding the record may look at the silences or at other aliases' incidents (their catch-ups are for it): an
 * alert's decision does, and a tick's (a storm's members); Slack inputs, deliveries and notifications look at their own
 * key's state alone.
 */
const asksOthers = (record: ConsumedRecord) => record.topic === TOPICS.alertsReceived || record.topic === TOPICS.routerTicks;

/**
 * Whether deciding the record may look at the silences: an alert's or a tick's, and a slash command's keyed by its
 * request (`/alertbus silences` lists them, `unsilence <id>` ends one: decided before the reader had read an accepted
 * silence, it answered "I know of no silence" and wrote nothing, and the silence muted on). Mentions, clicks and the
 * `ack`/`resolve` keyed by the alias they name never look at the silences.
 */
const asksSilences = (record: ConsumedRecord) =>
  asksOthers(record) || (record.topic === TOPICS.slackReceived && record.key !== null && record.key.startsWith(SLASH_REQUEST_KEY_PREFIX));

/** How the key of a slash command keyed by its request begins (slashKey in @alertbus/routing). */
const SLASH_REQUEST_KEY_PREFIX = 'slack-slash:';

/**
 * Whether the key's state is on router.shared.v1 for the other instances' decisions: an incident, or a firing kept as
 * an inhibitor (SuppressedFiring).
 */
const isShared = (s: RouterState | undefined): boolean => isIncidentState(s) || isSuppressedFiring(s);

/** The longest the inhibition-end ticker goes without looking at every kept inhibited firing. */
const FREED_FULL_LOOK_MS = 60_000;

/** The inputs other than Slack's: alerts and the pager's actions (and the router's own links and forwards for them), notifications, ticks. */
const NON_SLACK_INPUT_TYPES: ReadonlySet<string> = new Set<string>([
  'AlertReceived',
  'PagerActionReceived',
  'PagerAliasLinked',
  'PagerActionForwarded',
  'PagerAliasResolved',
  'PagerAlertCreated',
  'NotificationRequested',
  'StormSummaryTick',
  'SilenceEndedTick',
  'InhibitionEndedTick',
] satisfies Array<RouterInput['type']>);

/**
 * What the router takes from deliveries.v1 (a posted root: its thread; a created pager alert: its id, for the pager's
 * actions); everything else there is the history's.
 */
const isRouterDelivery = (type: string) => type === 'SlackMessagePosted' || type === 'PagerAlertCreated';

/**
 * The Kafka side of the router: reads AlertReceived and the Slack inputs, asks the decider, and writes
 * decisions, commands, the new per-key state and the consumed offsets in one transaction per batch. State
 * lives in memory per input partition and is written to the state topic on that same partition number,
 * so restoring a partition's keys means reading one state partition.
 */
export class RouterProcessor {
  /**
   * Committed state, by input partition, then key (an alias, or a Slack record's key), packed and held outside the
   * V8 heap (a million open incidents must fit in a few hundred MB); an incident's is the same record the index
   * holds. Only changed after a transaction committed.
   */
  private states = new Map<number, PackedStore>();
  /**
   * The same committed states across every partition this instance holds, indexed for what decisions ask
   * about other aliases (inhibition, storm control).
   */
  private index = new StateIndex();
  /** The inhibition-end ticker's last look (see inhibitedFiringsFreed). */
  private lastFreedLook: { none: boolean; gone: number; rules: CompiledRules; index: StateIndex; atMs: number } | undefined;
  /** The partitions this instance holds: their incidents come from its own states, the others' from router.shared.v1. */
  private held = new Set<number>();
  /**
   * The latest fact per alias on router.shared.v1, by input partition, every partition's (kept to fill the index
   * when partitions move), packed; this instance's own facts share the record of its committed state.
   */
  private readonly sharedFacts = new Map<number, PackedStore>();
  /** By input partition: which keys expire when, the keys found due and not yet evicted, the newest input's time. */
  private expiry = new Map<number, ExpiryQueue>();
  private pendingEvictions = new Map<number, Set<string>>();
  private watermarks = new Map<number, number>();
  /**
   * By input partition: the states of batches decided and not yet committed (pipelined turns), the newest per key.
   * A batch is decided against these over the committed states; each entry leaves when its batch commits or aborts.
   */
  private uncommitted = new Map<number, Map<string, Overlaid>>();
  private readonly retentionMs: number;
  private readonly processor: TransactionalProcessor;

  constructor(private readonly opts: RouterProcessorOptions) {
    const { metrics } = opts;
    this.retentionMs = opts.retentionMs ?? DEFAULT_STATE_RETENTION_MS;
    this.processor = new TransactionalProcessor({
      kafka: opts.kafka,
      groupId: GROUPS.router,
      topic: ROUTER_INPUT_TOPICS,
      transactionalId: `${GROUPS.router}-${opts.instanceId}`,
      log: opts.log,
      markerKey: ROUTER_STATE_MARKER_KEY,
      sessionTimeout: opts.sessionTimeoutMs,
      // Every input partition decided side by side; what a fetch brings commits in one transaction.
      partitionsConcurrently: ROUTER_PARTITIONS_CONCURRENTLY,
      // The silences' end (and the shared facts', with other instances) is looked up as soon as a batch is fetched, while
      // it waits for its partition's turn; its catch-up then waits only for what that look-up found.
      onFetched: (_partition, fetch) => {
        if (!fetch.records.some(asksSilences)) return;
        this.opts.silences?.lookAhead?.(fetch.fetchedAt);
        if (this.held.size < KEYED_PARTITIONS && fetch.records.some(asksOthers)) this.opts.shared?.lookAhead?.(fetch.fetchedAt);
      },
      prepare: async (_partition, fetch) => {
        if (!fetch.records.some(asksSilences)) return;
        const others = fetch.records.some(asksOthers);
        await Promise.all([this.catchUpSilences(fetch.fetchedAt), others ? this.catchUpShared(fetch.fetchedAt) : undefined]);
      },
      // Synchronous: a pipelined batch is decided and registered in one go (see TransactionalProcessor).
      handleBatch: (records, partition) => this.handleBatch(records, partition),
      pipelineDepth: opts.pipelineDepth ?? 1,
      fetch: { maxBatchBytes: opts.fetchBatchBytes ?? DEFAULT_FETCH_BATCH_BYTES },
      // Deliveries other than a posted root or a created page (a thread reply posted, a note added…) change nothing here: their
      // offsets ride along with the next transaction that writes something instead of costing one of their own.
      quietCommitDelayMs: QUIET_COMMIT_DELAY_MS,
      onAssigned: (partitions, ctx) => this.restore(partitions, ctx),
      beforeCommit: opts.chaosCommitDelayMs ? () => new Promise((r) => setTimeout(r, opts.chaosCommitDelayMs)) : undefined,
      onTransaction: (t) => {
        metrics.batchTransaction.observe(t.durationMs / 1000);
        metrics.batchStage.observe({ stage: 'turn_wait' }, t.stages.turnWaitMs / 1000);
        metrics.batchStage.observe({ stage: 'catch_up' }, t.stages.prepareMs / 1000);
        metrics.batchStage.observe({ stage: 'decide' }, t.stages.decideMs / 1000);
        metrics.batchStage.observe({ stage: 'commit_wait' }, Math.max(0, t.durationMs - t.stages.transactionMs) / 1000);
        metrics.batchStage.observe({ stage: 'transaction' }, t.stages.transactionMs / 1000);
        metrics.batchRecords.observe(t.records);
        if (t.firstOfTransaction) metrics.produceCalls.observe(t.produceCalls);
        metrics.inputs.inc(t.records);
      },
      onRetry: (_err, _attempt, what) => metrics.transactionRetries.inc({ what }),
      onAssignedDone: (_partitions, ms) => metrics.restoreSeconds.observe(ms / 1000),
      retry: opts.retry,
      loopMetrics: metrics.loop,
    });
  }

  /** The input partitions this instance holds (restored and deciding), in order. */
  get partitions(): number[] {
    return [...this.held].sort((x, y) => x - y);
  }

  /**
   * Holding every input partition, no decision waits for router.shared.v1 (see catchUpShared), and every fact there is
   * this instance's own or one of a partition it holds, which decisions never consult.
   */
  get holdsEveryPartition(): boolean {
    return this.held.size >= KEYED_PARTITIONS;
  }

  get ready(): Promise<void> {
    return this.processor.ready;
  }

  get isReady(): boolean {
    return this.processor.isReady;
  }

  /** Null while consuming normally, else why not (a crash being restarted, a halted partition). */
  problem(): string | null {
    return this.processor.problem();
  }

  /** Retries of sendOffsets after CONCURRENT_TRANSACTIONS (KafkaJS leaves those to the caller). */
  get concurrentTransactionRetries(): number {
    return this.processor.concurrentTransactionRetries;
  }

  start(): Promise<void> {
    return this.processor.start();
  }

  stop(): Promise<void> {
    return this.processor.stop();
  }

  /**
   * A fact read from router.shared.v1. Another instance's incident goes into the index decisions consult; this
   * instance's own partitions are left to its own states (the same values once committed, and never older).
   */
  applySharedFact(fact: SharedFact): void {
    if (!fact.state) {
      this.sharedFacts.get(fact.partition)?.delete(fact.alias);
      if (!this.held.has(fact.partition)) this.index.put(fact.alias, undefined);
      return;
    }
    const own = this.held.has(fact.partition) ? this.states.get(fact.partition)?.get(fact.alias) : undefined;
    const packed = own !== undefined && JSON.stringify(unpackState(own, fact.alias)) === JSON.stringify(fact.state) ? own : packState(fact.state, fact.alias);
    let facts = this.sharedFacts.get(fact.partition);
    if (!facts) this.sharedFacts.set(fact.partition, (facts = new PackedStore()));
    facts.set(fact.alias, packed);
    if (!this.held.has(fact.partition)) this.index.put(fact.alias, fact.state, packed);
  }

  /**
   * A fact this instance wrote, read back (before it is decoded): nothing to do while its partition is held, where the
   * committed state is that fact or newer; if the partition moves away, `restore` takes the committed states instead of
   * the facts. Any other instance's fact read earlier for the alias is older than this one: forgotten. False when the
   * partition is not held: the fact is decoded and applied.
   */
  ownSharedFact(partition: number, alias: string): boolean {
    if (!this.held.has(partition)) return false;
    this.sharedFacts.get(partition)?.delete(alias);
    return true;
  }

  /**
   * Reads the assigned partitions' state from the compacted state topic, up to its end. Chosen over
   * folding incidents.v1 because it reads one record per alias instead of the whole history; an incident's
   * state is the fold of its incident events (see core/evolve) and, from deliveries.v1, the id of its pager alert
   * (which only tells an action on an earlier occurrence's alert apart). The Slack records (command messages, thread
   * links) are only here.
   */
  private async restore(partitions: number[], ctx: AssignedContext): Promise<void> {
    const fresh = new Map<number, PackedStore>(partitions.map((p) => [p, new PackedStore()]));
    let skipped = 0;
    await ctx.readToEnd(TOPICS.routerState, partitions, (r) => {
      const aliases = fresh.get(r.partition);
      if (!aliases || r.key === null) return;
      if (r.value === null) {
        aliases.delete(r.key);
        return;
      }
      const decoded = decodeState(r.value);
      if (!decoded.ok) {
        skipped += 1;
        this.opts.log.warn({ partition: r.partition, offset: r.offset, key: r.key, error: decoded.error }, 'skipping a bad state record');
        return;
      }
      aliases.set(r.key, packState(decoded.state, r.key));
    });
    // The incidents of the partitions no longer held, as this instance committed them: the facts it wrote for them were
    // not kept (`ownSharedFact`), and any other instance's read since is newer.
    for (const [partition, aliases] of this.states) {
      if (fresh.has(partition)) continue;
      let facts = this.sharedFacts.get(partition);
      if (!facts) this.sharedFacts.set(partition, (facts = new PackedStore()));
      for (const [alias, packed] of aliases) if (facts.get(alias) === undefined && isShared(unpackState(packed, alias))) facts.set(alias, packed);
    }
    this.states = fresh;
    this.held = new Set(partitions);
    const index = new StateIndex();
    for (const [partition, facts] of this.sharedFacts) {
      if (this.held.has(partition)) continue;
      for (const [alias, packed] of facts) index.put(alias, unpackState(packed, alias), packed);
    }
    this.expiry = new Map();
    this.uncommitted = new Map();
    this.pendingEvictions = new Map();
    this.watermarks = new Map();
    for (const [partition, aliases] of fresh) {
      const queue = new ExpiryQueue();
      for (const [key, packed] of aliases) {
        const state = unpackState(packed, key);
        if (isShared(state)) index.put(key, state, packed);
        const at = expiresAt(state, this.retentionMs);
        if (at !== null) queue.push(key, at);
      }
      this.expiry.set(partition, queue);
    }
    this.index = index;
    this.updateSize();
    this.opts.log.info({ partitions, aliases: this.index.size, keys: [...fresh.values()].reduce((n, m) => n + m.size, 0), skipped }, 'router state restored');
  }

  private updateSize(): void {
    const keys = [...this.states.values()].reduce((n, m) => n + m.size, 0);
    const incidents = this.index.size;
    this.opts.metrics.aliases.set(keys);
    this.opts.metrics.stateEntries.set({ kind: 'incident' }, incidents);
    this.opts.metrics.stateEntries.set({ kind: 'slack' }, keys - incidents);
  }

  private deadLetter(out: Writes, record: ConsumedRecord, error: string, dead: string[]): void {
    // The record's time, so that a decision taken again gives the same dead letter. Its producer may have set any number
    // there: one that is no time an event can carry (past year 9999, or out of JavaScript's range) takes the clock's, or
    // the batch would fail on it for ever and hold every record after it in its partition.
    const stamped = new Date(Number(record.timestamp));
    const at = Number.isNaN(stamped.getTime()) || !/^\d{4}-/.test(stamped.toISOString()) ? new Date() : stamped;
    out.push(eventWrite(deadLetterEvent(record, GROUPS.router, [{ at: at.toISOString(), error }], at)));
    dead.push(error);
  }

  /**
   * Every silence written before the batch is known before it is decided (bounded: alerts are never held for long):
   * the silences topic's end is looked up after the batch's fetch returned (one lookup serves a fetch's batches).
   */
  private catchUpSilences(sinceMs: number): Promise<void> {
    const silences = this.opts.silences;
    if (!silences) return Promise.resolve();
    return this.catchUp('silences topic', () => silences.catchUp(this.opts.silencesCatchUpTimeoutMs ?? 5_000, sinceMs), this.opts.metrics.silencesCatchUpTimeouts);
  }

  /**
   * Every other instance's incident committed before the batch is known before it is decided (bounded like the
   * silences). An instance that holds every input partition has no other instance's incidents to wait for: its
   * own are in its states, and waiting for the topic's end would wait for its own previous transaction to commit
   * and be read back, a commit and a fetch added to every batch.
   */
  private catchUpShared(sinceMs: number): Promise<void> {
    const shared = this.opts.shared;
    if (!shared || this.held.size >= KEYED_PARTITIONS) return Promise.resolve();
    return this.catchUp('shared facts topic', () => shared.catchUp(this.opts.sharedCatchUpTimeoutMs ?? 5_000, sinceMs), this.opts.metrics.sharedCatchUpTimeouts);
  }

  private async catchUp(what: string, wait: () => Promise<boolean>, timeouts: { inc(): void }): Promise<void> {
    const caughtUp = await wait().catch((err: Error) => {
      this.opts.log.warn({ err }, `could not look up the end of the ${what}`);
      return false;
    });
    if (!caughtUp) {
      timeouts.inc();
      this.opts.log.warn(`deciding a batch before the ${what} was read to its end`);
    }
  }

  /**
   * Decides every record of the batch in order against committed state, the uncommitted states of the partition's
   * batches still in flight (pipelined), and this batch's own changes. The partition's states change only in onCommit,
   * after the transaction committed; the uncommitted overlay and the index shared with the other partitions hold the
   * batch's states meanwhile and get their old ones back in onAbort (a later batch's abort always runs first).
   */
  private handleBatch(records: ConsumedRecord[], partition: number): BatchWork {
    const rules = this.opts.rules();
    const committed = this.states.get(partition) ?? new PackedStore();
    let overlay = this.uncommitted.get(partition);
    if (!overlay) this.uncommitted.set(partition, (overlay = new Map()));
    const uncommitted = overlay;
    const packedHeld = (key: string) => {
      const over = uncommitted.get(key);
      return over ? over.packed : committed.get(key);
    };
    const held = (key: string) => {
      const packed = packedHeld(key);
      return packed === undefined ? undefined : unpackState(packed, key);
    };
    const owner = { committed: false };
    /** What the overlay held before this batch, by key: put back unless it commits. */
    const overlaid = new Map<string, Overlaid | undefined>();
    const overlay_ = (key: string, packed: PackedState | undefined) => {
      if (!overlaid.has(key)) overlaid.set(key, uncommitted.get(key));
      uncommitted.set(key, { packed, owner });
    };
    /** The key's state decided last in this batch, and the one it had before the batch (`held`, read once). */
    const staged = new Map<string, { state: RouterState | undefined; packed: PackedState | undefined; at: string; original: RouterState | undefined }>();
    // The batch's incident states go into the shared index as they are decided (later records of the batch
    // see them, as they see committed ones); `undo` puts back what was there unless the transaction commits.
    const index = this.index;
    /** What the index held for the alias before the batch, packed: unpacked again only if the transaction aborts. */
    const replaced = new Map<string, PackedState | undefined>();
    /** The same for the suppressed firings the index holds as inhibitors: only for the aliases that had or have one. */
    const replacedSources = new Map<string, PackedState | undefined>();
    /** Remembers what the index holds for the alias before the batch changes it (the first time only). */
    const save = (alias: string, next: RouterState | undefined) => {
      if (!replaced.has(alias)) replaced.set(alias, index.packed(alias));
      if (replacedSources.has(alias)) return;
      const source = index.packedSource(alias);
      if (source !== undefined || isSuppressedFiring(next)) replacedSources.set(alias, source);
    };
    const undo = () => {
      for (const [alias, old] of replaced) {
        if (old !== undefined) index.set(unpackState<AliasState>(old, alias), old);
        else index.delete(alias);
      }
      replaced.clear();
      for (const [alias, old] of replacedSources) {
        if (old !== undefined) index.setSource(unpackState<SuppressedFiring>(old, alias), old);
        else index.deleteSource(alias);
      }
      replacedSources.clear();
      for (const [key, old] of overlaid) {
        // An earlier batch's state that committed since is in the committed states now.
        if (old && !old.owner.committed) uncommitted.set(key, old);
        else uncommitted.delete(key);
      }
      overlaid.clear();
    };
    const ctx = {
      neighbours: index,
      ...(this.opts.silences ? { silences: this.opts.silences.lookup } : {}),
      retentionMs: this.retentionMs,
      ...(this.opts.silenceMaxMs !== undefined ? { silenceMaxMs: this.opts.silenceMaxMs } : {}),
      ...(this.opts.shared ? { sharedOffset: this.opts.shared.offset() } : {}),
    };
    let watermark = this.watermarks.get(partition) ?? Number.NEGATIVE_INFINITY;
    const out: Writes = [];
    /**
     * What the metrics count once the batch commits, not the events themselves: a batch waits for its transaction with
     * only its encoded outputs and packed states alive, so the collector copies less of each batch in flight.
     */
    const decided: DecidedCounts = { types: [], reasons: [] };
    const dead: string[] = [];
    try {
      for (const record of records) {
        const input = this.inputOf(record, out, dead);
        if (!input) continue;
        const earlier = staged.get(input.alias);
        let before: RouterState | undefined;
        if (earlier) before = earlier.state;
        else {
          const packed = packedHeld(input.alias);
          const indexed = index.packed(input.alias);
          // An incident's state is the index's too: read through it, the decision's later reads of it (its storm window and
          // members, and unindexing it) find it already unpacked.
          before = packed === undefined ? undefined : packed === indexed ? index.get(input.alias) : unpackState(packed, input.alias);
        }
        let events: AnyEnvelope[];
        let state: RouterState | undefined;
        try {
          ({ events, state } = decide(input, before, rules, ctx));
          events.forEach(assertValid);
        } catch (err) {
          this.deadLetter(out, record, `router could not decide: ${(err as Error).message}`, dead);
          continue;
        }
        const packed = state === undefined ? undefined : packState(state, input.alias);
        staged.set(input.alias, { state, packed, at: input.recordedAt, original: earlier ? earlier.original : before });
        // An incident or a kept firing (SuppressedFiring) into the index; what replaced either (an expired incident replaced
        // by the resolve kept for its alias, a kept firing resolved) out of it. Back in onAbort.
        if (isShared(state) || isSuppressedFiring(before) || (state !== undefined && index.packed(input.alias) !== undefined)) {
          save(input.alias, state);
          index.put(input.alias, state, packed);
        }
        watermark = Math.max(watermark, Date.parse(input.recordedAt));
        for (const e of events) {
          out.push(eventWrite(e));
          decided.types.push(e.type);
          decided.reasons.push(isIncidentEvent(e) ? (e.data as { reason: string }).reason : null);
        }
      }
      /** Kept firings resolved with nothing else to keep for their alias: forgotten, as an eviction forgets a state. */
      const forgotten: string[] = [];
      for (const [key, { state, at, original }] of staged) {
        if (state === undefined && isSuppressedFiring(original)) {
          forgotten.push(key);
          out.push({ topic: TOPICS.routerState, message: { partition, key, value: null } });
          if (this.opts.shared) out.push({ topic: TOPICS.routerShared, message: sharedFactMessage(key, null, partition, this.opts.instanceId) });
        }
        if (state === undefined || state === original) continue;
        // One JSON for the comparison, the state record and the shared fact.
        const json = JSON.stringify(state);
        if (unchanged(state, original, json)) continue;
        const value = Buffer.from(json);
        out.push({ topic: TOPICS.routerState, message: stateMessage(state, partition, at, value) });
        if (this.opts.shared && (isIncidentState(state) || isSuppressedFiring(state))) out.push({ topic: TOPICS.routerShared, message: sharedFactMessage(key, state, partition, this.opts.instanceId, at, value) });
        // The other instances forget the expired incident the kept resolve replaced (or the kept firing), as when it is evicted.
        else if (this.opts.shared && isShared(original)) out.push({ topic: TOPICS.routerShared, message: sharedFactMessage(key, null, partition, this.opts.instanceId) });
      }
      const { evict, settled } = this.dueEvictions(partition, held, staged, watermark);
      // A tombstone, so a restore does not bring the evicted state back either.
      for (const key of evict) {
        out.push({ topic: TOPICS.routerState, message: { partition, key, value: null } });
        const gone = staged.get(key)?.state ?? held(key);
        if (isShared(gone)) {
          if (this.opts.shared) out.push({ topic: TOPICS.routerShared, message: sharedFactMessage(key, null, partition, this.opts.instanceId) });
          // Out of the index now (a later pipelined batch may bring the alias back before this one commits); back in onAbort.
          save(key, undefined);
          index.put(key, undefined);
        }
      }
      // Later batches of the partition decide on these until this one commits or aborts.
      const evicting = new Set(evict);
      for (const [key, { state, packed }] of staged) if (state !== undefined && packed !== undefined && !evicting.has(key)) overlay_(key, packed);
      for (const key of evict) overlay_(key, undefined);
      for (const key of forgotten) overlay_(key, undefined);
      /** What the commit keeps of `staged`: each key's packed state and when it expires (the states themselves can go). */
      const commits: Array<{ key: string; packed: PackedState; expires: number | null }> = [];
      for (const [key, { state, packed }] of staged) {
        if (state === undefined || packed === undefined) continue;
        commits.push({ key, packed, expires: expiresAt(state, this.retentionMs) });
      }
      return {
        outputs: byTopic(out),
        onAbort: undo,
        onCommit: () => {
          replaced.clear();
          replacedSources.clear();
          owner.committed = true;
          for (const key of overlaid.keys()) if (uncommitted.get(key)?.owner === owner) uncommitted.delete(key);
          overlaid.clear();
          const queue = this.queueOf(partition);
          for (const { key, packed, expires } of commits) {
            committed.set(key, packed);
            if (expires !== null) queue.push(key, expires);
          }
          const pending = this.pendingEvictions.get(partition);
          // Their incidents left the index when decided.
          for (const key of evict) committed.delete(key);
          for (const key of forgotten) committed.delete(key);
          for (const key of settled) pending?.delete(key);
          if (watermark > (this.watermarks.get(partition) ?? Number.NEGATIVE_INFINITY)) this.watermarks.set(partition, watermark);
          this.states.set(partition, committed);
          if (evict.length > 0) this.opts.metrics.evictions.inc(evict.length);
          this.pruneSilences();
          this.count(decided, dead);
        },
      };
    } catch (err) {
      undo();
      throw err;
    }
  }

  private queueOf(partition: number): ExpiryQueue {
    let q = this.expiry.get(partition);
    if (!q) this.expiry.set(partition, (q = new ExpiryQueue()));
    return q;
  }

  /**
   * The keys of the partition whose states expired (ROUTER_STATE_RETENTION, by event time) more than the
   * grace before the newest input: decisions already treat them as absent, so forgetting them changes none.
   * Keys taken from the queue stay pending until a transaction settles them, so a failed one loses none.
   */
  private dueEvictions(
    partition: number,
    held: (key: string) => RouterState | undefined,
    staged: Map<string, { state: RouterState | undefined }>,
    watermark: number,
  ): { evict: string[]; settled: string[] } {
    const horizon = watermark - EVICTION_GRACE_MS;
    let pending = this.pendingEvictions.get(partition);
    if (!pending) this.pendingEvictions.set(partition, (pending = new Set()));
    for (const key of this.queueOf(partition).popDue(horizon)) pending.add(key);
    const evict: string[] = [];
    const settled: string[] = [];
    for (const key of pending) {
      settled.push(key);
      const current = staged.get(key)?.state ?? held(key);
      const expires = current ? expiresAt(current, this.retentionMs) : null;
      if (current && expires !== null && expires <= horizon) evict.push(key);
    }
    return { evict, settled };
  }

  /** Silences over for longer than the grace before every held partition's newest input can silence nothing any more. */
  private pruneSilences(): void {
    const prune = this.opts.silences?.prune;
    if (!prune) return;
    const before = silencePruneHorizon(this.held, this.watermarks);
    if (before === undefined) return;
    const pruned = prune(before);
    if (pruned > 0) this.opts.metrics.silencesPruned.inc(pruned);
  }

  /**
   * The record as a router input, or undefined when there is nothing to decide: an undecodable record
   * or one whose key is not its alias is dead-lettered (on the router's own input topics); deliveries
   * other than a posted root or a created page are the history's, and undecodable ones are left to it too.
   */
  private inputOf(record: ConsumedRecord, out: Writes, dead: string[]): RouterInput | undefined {
    const fromSinks = record.topic === TOPICS.deliveries;
    if (fromSinks && !isRouterDelivery(record.headers[HEADERS.eventType] ?? '')) return undefined;
    // notifications.v1 also holds the router's own decisions about them.
    if (record.topic === TOPICS.notifications && record.headers[HEADERS.eventType] === 'NotificationRouted') return undefined;
    const decoded = decodeEnvelope(record.value, record.topic);
    if (!decoded.ok) {
      if (fromSinks) this.opts.log.warn({ offset: record.offset, partition: record.partition, error: decoded.error }, 'skipping an undecodable delivery');
      else this.deadLetter(out, record, decoded.error, dead);
      return undefined;
    }
    const event = decoded.event;
    if (!NON_SLACK_INPUT_TYPES.has(event.type) && !SLACK_INPUT_TYPES.has(event.type)) {
      if (!fromSinks) this.deadLetter(out, record, `the router does not take ${event.type} events`, dead);
      return undefined;
    }
    if (record.key !== event.alias) {
      // State is kept per partition: an alias arriving under another key could land elsewhere and split.
      const error = `record key ${JSON.stringify(record.key)} is not the event's alias ${JSON.stringify(event.alias)}`;
      if (fromSinks) this.opts.log.warn({ error }, 'skipping a delivery');
      else this.deadLetter(out, record, error, dead);
      return undefined;
    }
    return event as RouterInput;
  }

  /**
   * The storms whose summary key is on a partition this instance holds and whose summary may lack changes (summaryStale,
   * against the committed `storm-summary` state of the key): what the ticker writes ticks for once they are quiet.
   * `partitionOf` answers undefined for a key whose partition it does not know yet.
   */
  staleStorms(partitionOf: (key: string) => number | undefined): Array<{ key: string; storm: TickedStorm; change: string; lastChangeMs: number }> {
    const out: Array<{ key: string; storm: TickedStorm; change: string; lastChangeMs: number }> = [];
    if (!this.processor.isReady) return out;
    for (const { id, channel, since } of this.index.stormSummaries()) {
      // No retention: the counts the index keeps; the tick's decision looks again, at its own time.
      const members = this.index.stormMembers(id, channel, { atMs: 0 });
      // Most storms need no tick whatever was shown (small, or over): their keys' partitions are not even looked up.
      if (!summaryStale(members, undefined)) continue;
      const key = stormSummaryKey(channel, since);
      // Holding every partition (one instance, as `npm start` runs it), the key's is among them: no look-up.
      let partition: number | undefined;
      if (this.held.size >= KEYED_PARTITIONS) partition = this.heldPartitionOf(key);
      else {
        partition = partitionOf(key);
        if (partition === undefined || !this.held.has(partition)) continue;
      }
      const packed = partition === undefined ? undefined : this.states.get(partition)?.get(key);
      const state = packed === undefined ? undefined : unpackState<RouterState>(packed, key);
      const shown = state !== undefined && 'kind' in state && state.kind === 'storm-summary' ? state.shown : undefined;
      if (!summaryStale(members, shown)) continue;
      const lastChangeMs = members.lastChangeMs!;
      out.push({ key, storm: { summaryIncidentId: id, channel, since }, change: `${members.total}/${members.open}/${lastChangeMs}`, lastChangeMs });
    }
    return out;
  }

  /**
   * The firings kept under a silence (SuppressedFiring, reason silenced) on a partition this instance holds, whose
   * silence had ended by `nowMs` (the wall clock): what the silence-end ticker writes a SilenceEndedTick for, keyed by
   * the alias. The committed states: a firing decided since is found at the next look.
   */
  silencedFiringsEnded(silences: SilenceLookup, nowMs: number): Array<{ alias: string; silenceId: string; inputId: string }> {
    const out: Array<{ alias: string; silenceId: string; inputId: string }> = [];
    if (!this.processor.isReady) return out;
    for (const f of this.index.suppressedFirings()) {
      if (f.reason !== 'silenced' || f.silenceId === undefined) continue;
      if (!silenceEnded(silences.get?.(f.silenceId), nowMs)) continue;
      // Only the holder of the alias's partition (its state is there) writes its tick: the other instances' are shared facts.
      if (this.heldPartitionOf(f.key) === undefined) continue;
      out.push({ alias: f.key, silenceId: f.silenceId, inputId: f.inputId });
    }
    return out;
  }

  /**
   * The firings kept while inhibited (SuppressedFiring, reason inhibited) on a partition this instance holds that
   * nothing inhibits at `nowMs` (the wall clock): their inhibitor resolved, expired or no longer matches. What the
   * inhibition-end ticker writes an InhibitionEndedTick for, keyed by the alias. Not one expired, nor one whose sender's
   * own endsAt has passed: their tick would decide nothing; nor, yet, one that another freed one would inhibit once it
   * opens (firstToTick: a chain of inhibit rules pages from the top down).
   */
  inhibitedFiringsFreed(nowMs: number): Array<{ alias: string; inhibitedBy: string; inputId: string }> {
    const out: Array<{ alias: string; inhibitedBy: string; inputId: string }> = [];
    if (!this.processor.isReady) return out;
    const rules = this.opts.rules();
    // The look walks every kept firing (100,000 kept inhibited took 0.4 s of the decision loop): skipped while the last
    // found none free and no inhibitor has left since, the rules and the partitions held the same, for up to
    // FREED_FULL_LOOK_MS (an inhibitor that expired in place leaves nothing).
    const last = this.lastFreedLook;
    const gone = this.index.inhibitorsGone;
    if (last?.none && last.gone === gone && last.rules === rules && last.index === this.index && nowMs - last.atMs < FREED_FULL_LOOK_MS && nowMs >= last.atMs) return out;
    // Every instance's (its own and the shared facts'): one freed here may wait for one freed on another instance.
    const freed = freedInhibitedFirings(this.index, rules, nowMs, this.retentionMs);
    for (const f of freed) {
      // Only the holder of the alias's partition (its state is there) writes its tick.
      if (this.heldPartitionOf(f.key) === undefined) continue;
      out.push({ alias: f.key, inhibitedBy: f.inhibitedBy!, inputId: f.inputId });
    }
    const none = freed.length === 0;
    this.lastFreedLook = { none, gone, rules, index: this.index, atMs: nowMs };
    return out;
  }

  /** The held partition whose committed states have `key`, if any (a key not written yet has none: any holder will do). */
  private heldPartitionOf(key: string): number | undefined {
    for (const p of this.held) if (this.states.get(p)?.get(key) !== undefined) return p;
    return undefined;
  }

  private count(decided: DecidedCounts, dead: string[]): void {
    const { metrics } = this.opts;
    for (let i = 0; i < decided.types.length; i++) {
      const reason = decided.reasons[i];
      if (reason !== null) metrics.decisions.inc({ type: decided.types[i]!, reason });
      else metrics.commands.inc({ type: decided.types[i]! });
    }
    if (dead.length > 0) {
      metrics.deadLetters.inc(dead.length);
      for (const error of dead) this.opts.log.warn({ error }, 'input dead-lettered');
    }
    this.updateSize();
  }
}

/**
 * Before when a silence that ended can be forgotten: the grace before the newest input of the partition that is
 * furthest behind. The silences are the instance's, its partitions' inputs are not: pruned by the newest input of any
 * partition, a partition catching up an hour behind the others lost silences that still covered its inputs (those
 * alerts paged, and a replay decided otherwise). Undefined (prune nothing) while a held partition has no input yet:
 * it may be further behind still.
 */
export function silencePruneHorizon(held: ReadonlySet<number>, watermarks: ReadonlyMap<number, number>): number | undefined {
  let oldest = Number.POSITIVE_INFINITY;
  for (const partition of held) {
    const watermark = watermarks.get(partition);
    if (watermark === undefined || !Number.isFinite(watermark)) return undefined;
    if (watermark < oldest) oldest = watermark;
  }
  return Number.isFinite(oldest) ? oldest - EVICTION_GRACE_MS : undefined;
}
