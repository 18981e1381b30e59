import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import {
  DEFAULT_DELIVERY_RETRY,
  DeliveryError,
  planDeliveryRetry,
  Counter,
  Gauge,
  type DeliveryRetryPolicy,
  type InfraRetryPolicy,
  type Registry,
} from '@alertbus/common';
import {
  ConsumeLoop,
  consumeLoopMetrics,
  deadLetterEvent,
  eachRecord,
  type BatchOutcome,
  type ConsumedRecord,
  type EventProducer,
  type LoopBatch,
  type SettledOutcome,
} from '@alertbus/kafka';
import { decodeEnvelope, deriveId, HEADERS, KEYED_PARTITIONS, makeEnvelope, type AnyEnvelope, type Envelope, type EventData, type EventType } from '@alertbus/schemas';
import type { CommandLedger, KeptRows, LedgerEntry } from './ledger';

/** What executing a command produced: the delivery event's type and its sink-specific fields. */
export interface DeliveryOutcome {
  type: EventType;
  data: Record<string, unknown>;
}

/**
 * A failure before the request left: no connection was made (refused, unknown host), so the call cannot have taken
 * effect. Unlike another error without an HTTP status (a timeout, a connection lost mid-call), the next attempt
 * need not look first whether it did.
 */
export class NotSentError extends DeliveryError {
  constructor(message: string) {
    super(message, false);
    this.name = 'NotSentError';
  }
}

/**
 * The command is no longer worth delivering, and never will be: the moment it was for has passed (a slash command's
 * answer after its response_url expired) or the one it was for cannot be reached. It ends in DeliveryFailed saying
 * why, with no dead letter: the record is not bad, and a redrive could not deliver it either.
 */
export class GivenUpError extends DeliveryError {
  constructor(
    /** A short name of why, for the metrics and the start of the message, e.g. `response-url-expired`. */
    readonly reason: string,
    message: string,
    httpStatus?: number,
  ) {
    super(`${reason}: ${message}`, true, httpStatus);
    this.name = 'GivenUpError';
  }
}

/**
 * HTTP statuses that do not say the call was not done: a 500 of the API mid-way, a 502 or 504 of a gateway that gave
 * up waiting for the API, which may have acted meanwhile. (A 429 or a 503 says it was not processed.)
 */
export const MAYBE_DONE_STATUSES: ReadonlySet<number> = new Set([500, 502, 504]);

/**
 * Whether a failed attempt may have taken effect, so the next one must look first (reconcile): no answer came (a
 * timeout, a connection lost after the request went out), or a status that does not say it was not done. A
 * NotSentError never left.
 */
export function mayHaveTakenEffect(err: DeliveryError, notifier?: Pick<Notifier, 'repeatsSafelyAfterServerError'>, command?: AnyEnvelope): boolean {
  if (err instanceof NotSentError) return false;
  if (err.httpStatus === undefined) return true;
  if (!MAYBE_DONE_STATUSES.has(err.httpStatus)) return false;
  const safely = notifier?.repeatsSafelyAfterServerError;
  return !(typeof safely === 'function' ? command !== undefined && safely(command) : safely === true);
}

/** The one-method notifier of a sink (plus optional reconciliation after a crash). */
export interface Notifier {
  readonly target: 'slack' | 'pager';
  /**
   * True when doing a command again after a 500/502/504 cannot do it twice (the API deduplicates it): the next attempt
   * then goes out at once instead of looking first. A function answers it per command (a pager deduplicates a create by
   * its alias, not a note). Unset: it looks first.
   */
  readonly repeatsSafelyAfterServerError?: boolean | ((command: AnyEnvelope) => boolean);
  /** Command types this notifier executes; others on the topic are ignored. */
  readonly handles: ReadonlySet<string>;
  /**
   * Executes the command once against the external API. An API failure is thrown as a DeliveryError saying
   * whether to retry; anything else thrown (Postgres, a bug) is ours, and retried without spending the budget.
   */
  execute(command: AnyEnvelope, attempt: number): Promise<DeliveryOutcome>;
  /**
   * Called when an earlier run started this command and died before recording the result, or its last attempt got
   * no answer or a 500/502/504 (MAYBE_DONE_STATUSES): returns the outcome if the effect already happened (so it is not done twice), or undefined to execute
   * it. Throws when it cannot tell yet (the look-up got no answer either): the record is tried again after a back-off,
   * or, when the thrown DeliveryError carries `retryAfterMs` (a Retry-After; an earlier request that may still be
   * pending at the API), after that long, without an error. `startedAt` is when the last attempt began, `firstAttemptAt`
   * when the first did (an effect found since then may be any attempt's).
   */
  reconcile?(command: AnyEnvelope, startedAt: Date, firstAttemptAt?: Date): Promise<DeliveryOutcome | undefined>;
  /** What would have been sent, for dry-run mode (no credentials configured). */
  dryRun(command: AnyEnvelope): DeliveryOutcome;
  /**
   * Which message the command writes, so that an update need not run when a later command of the same fetched
   * batch replaces that message whole: `post` makes a new message (never skipped; updates before it are not
   * superseded by updates after it), `update` edits it in place, `replace` edits it in place with its whole
   * content. Undefined: the command is never skipped (replies, pages).
   */
  writes?(command: AnyEnvelope): { message: string; effect: 'post' | 'update' | 'replace' } | undefined;
  /**
   * How long the command should wait before it is executed (0 or undefined: now), e.g. an update of a message the API
   * takes about one update a second of. A held command is neither executed nor recorded: its partition pauses there and
   * reads it again once the hold is over, with what came after it, so a later command of that batch that replaces the
   * same message whole supersedes it; a crash meanwhile reads it again too. A promise when the notifier must ask first
   * (e.g. whether an earlier request of the command's alias was processed yet); it should answer at once, without a
   * promise, for the commands it has nothing to ask about. A rejection is retried like an infrastructure error.
   */
  holdMs?(command: AnyEnvelope): number | undefined | Promise<number | undefined>;
  /**
   * The consumer was assigned partitions (at start, and after every rebalance), before any of their records is handled:
   * a notifier that keeps in memory what it also wrote down durably reads it again here, as the partitions may have been
   * another instance's until now.
   */
  partitionsAssigned?(partitions: readonly number[]): void;
  /**
   * Rows the sink keeps with the completion (e.g. a Slack thread's root ts): a statement (or a few), written in the
   * same statement as the completion, or undefined when this command keeps none.
   */
  persist?(command: AnyEnvelope, outcome: DeliveryOutcome): KeptRows | readonly KeptRows[] | undefined;
  /**
   * Rows the sink keeps (or deletes) with a failed finish (dead-lettered, or given up), in the same statement; undefined
   * when this command keeps none. For what a notifier holds for a command until it finishes, however it finishes.
   */
  persistFailure?(command: AnyEnvelope): KeptRows | readonly KeptRows[] | undefined;
}

export interface SinkOptions {
  name: string;
  kafka: Kafka;
  groupId: string;
  topic: string;
  producer: EventProducer;
  ledger: CommandLedger;
  notifier: Notifier;
  log: Logger;
  registry: Registry;
  dryRun: boolean;
  /** How long and how often a delivery is retried (DELIVERY_RETRY_BUDGET and the backoff bounds). */
  retryPolicy?: DeliveryRetryPolicy;
  /** Back-off while Kafka or Postgres are unreachable (INFRA_RETRY_*). */
  infraRetry?: InfraRetryPolicy;
  now?: () => Date;
  /** Partitions whose commands are executed at the same time (default: every partition of a keyed topic). */
  partitionsConcurrently?: number;
  /**
   * Within a partition's batch, commands of unrelated incidents executed at the same time (default
   * DEFAULT_SINK_COMMANDS_CONCURRENTLY); an incident's commands stay in order (see `orderKeysOf`).
   */
  commandsConcurrently?: number;
  /** How long the offsets of handled commands may wait to be committed together (default DEFAULT_SINK_COMMIT_DELAY_MS; 0: after every batch). */
  commitDelayMs?: number;
}

/** A keyed topic's partition count: every partition of the command topic goes on at its own pace. */
export const DEFAULT_SINK_PARTITIONS_CONCURRENTLY = KEYED_PARTITIONS;

/**
 * Commands of one partition's batch executed at the same time, when they belong to different incidents: a command
 * mostly waits (its ledger rows, the call), so a partition's rate is about this many over one command's round trips;
 * at 4, a busy machine held the slack-sink under 300 commands a second, and more at a time also writes more ledger
 * rows per statement (less CPU per command, in the sink and in Postgres).
 */
export const DEFAULT_SINK_COMMANDS_CONCURRENTLY = 16;

/**
 * The offsets of handled commands are committed together, at most this long after the first (ConsumeLoop's
 * commitDelayMs), not after every batch: at a few commands a second each came alone, and its OffsetCommit was a
 * broker request per command on the fetch's path. The ledger makes re-reading harmless: a command read again after a
 * crash or a rebalance finds its row completed and sends the same delivery event again (same id), nothing else.
 */
export const DEFAULT_SINK_COMMIT_DELAY_MS = 500;

type Later = { retryInMs: number; reason: string };

/**
 * What a command must stay in order with: its key (the alias), its incident (a reply needs its incident's root
 * posted first, and a storm's grouped incidents reply in the storm's thread), and the message it writes.
 */
export function orderKeysOf(command: AnyEnvelope, record: ConsumedRecord, notifier: Pick<Notifier, 'writes'>): string[] {
  const keys = [`alias:${record.key ?? command.alias}`];
  const incidentId = (command.data as { incidentId?: unknown }).incidentId;
  if (typeof incidentId === 'string') keys.push(`incident:${incidentId}`);
  const message = notifier.writes?.(command)?.message;
  if (message !== undefined) keys.push(`message:${message}`);
  return keys;
}

/**
 * The updates of a batch (one partition, in offset order) that a later command of the batch replaces whole, each
 * with the id of the command that replaces it. Walks the batch backwards, so it is one pass; a record that fails
 * its schema neither supersedes nor is superseded (it is dead-lettered as before).
 */
export function supersededIn(records: readonly ConsumedRecord[], notifier: Pick<Notifier, 'writes' | 'handles'>): Map<ConsumedRecord, string> {
  const superseded = new Map<ConsumedRecord, string>();
  if (!notifier.writes) return superseded;
  const replacedBy = new Map<string, string>();
  for (let i = records.length - 1; i >= 0; i--) {
    const record = records[i]!;
    const decoded = decodeEnvelope(record.value, record.topic);
    if (!decoded.ok || !notifier.handles.has(decoded.event.type)) continue;
    const writes = notifier.writes(decoded.event);
    if (!writes) continue;
    if (writes.effect === 'post') {
      replacedBy.delete(writes.message);
      continue;
    }
    const by = replacedBy.get(writes.message);
    if (by !== undefined) superseded.set(record, by);
    else if (writes.effect === 'replace') replacedBy.set(writes.message, decoded.event.id);
  }
  return superseded;
}

/**
 * Consumes a command topic and executes each command at most once in effect: completed commands are
 * skipped (their delivery events re-emitted with the same ids), commands whose previous run died midway are
 * reconciled first. A delivery that fails in a way worth retrying (429, 5xx, network) waits for its next try
 * (DeliveryDelayed), honouring any Retry-After, within the retry budget; the commands after it in its
 * partition wait behind it, so an incident's commands keep their order (close after create, reply after
 * root). A command no longer worth delivering (GivenUpError) ends in DeliveryFailed alone. Only a permanent failure, or a spent budget while other commands went through (a record the API keeps
 * failing on), ends in DeliveryFailed and a dead letter; a budget spent in an outage is said once and the command keeps
 * waiting. Kafka and Postgres faults are the consume loop's: the partition pauses and resumes where it stopped. An update that a
 * later command of the same fetched batch replaces whole is completed as superseded, without a call. A batch done in
 * the ledger lets the next one be fetched before its delivery events are acknowledged (see withDeliveriesSent).
 */
export class SinkRunner {
  private readonly loop: ConsumeLoop;
  private readonly deliveries: Counter<string>;
  private readonly delays: Counter<string>;
  private readonly holds: Counter<string>;
  /**
   * Commands waiting for their next try, by command id (each heads its partition): with how many commands this runner
   * had delivered when it last failed (see failedAttempt), and whether its retry budget is spent.
   */
  private readonly waiting = new Map<string, { partition: number; deliveredBefore: number; pastBudget: boolean }>();
  /** Commands this runner delivered (executed, or found done by reconcile): whether the API took anything. */
  private delivered = 0;
  private readonly now: () => Date;
  private readonly policy: DeliveryRetryPolicy;
  /** Per fetched batch: the delivery events sent for its commands so far (see withDeliveriesSent). */
  private readonly sendsOf = new WeakMap<ConsumedRecord, Array<Promise<void>>>();
  /** Per partition: the acknowledgements its latest pipelined batch (and every one before it) still waits for. */
  private readonly acknowledging = new Map<string, Promise<void>>();
  /** Per fetched batch: its updates a later command of the batch replaces whole, with the replacing command's id. */
  private readonly superseded = new WeakMap<ConsumedRecord, string>();

  constructor(private readonly opts: SinkOptions) {
    this.now = opts.now ?? (() => new Date());
    this.policy = opts.retryPolicy ?? DEFAULT_DELIVERY_RETRY;
    this.deliveries = new Counter({
      name: 'alertbus_sink_deliveries_total',
      help: 'Commands handled by the sink, by command type and outcome.',
      labelNames: ['sink', 'command', 'outcome'],
      registers: [opts.registry],
    });
    this.delays = new Counter({
      name: 'alertbus_deliveries_delayed_total',
      help: 'Delivery attempts that failed in a way worth retrying (429, 5xx, network): the command waits for its next try.',
      labelNames: ['sink', 'command'],
      registers: [opts.registry],
    });
    this.holds = new Counter({
      name: 'alertbus_sink_holds_total',
      help: 'Commands held before their call (the notifier asked them to wait; its partition pauses there and reads them again).',
      labelNames: ['sink', 'command'],
      registers: [opts.registry],
    });
    const waiting = this.waiting;
    const sink = opts.name;
    new Gauge({
      name: 'alertbus_deliveries_delayed',
      help: 'Deliveries waiting for their next try (each holds back the commands after it in its partition).',
      labelNames: ['sink'],
      registers: [opts.registry],
      collect() {
        this.set({ sink }, waiting.size);
      },
    });
    new Gauge({
      name: 'alertbus_deliveries_past_budget',
      help: 'Deliveries still waiting after DELIVERY_RETRY_BUDGET: nothing else went through either (an outage), so they keep waiting.',
      labelNames: ['sink'],
      registers: [opts.registry],
      collect() {
        let n = 0;
        for (const w of waiting.values()) if (w.pastBudget) n += 1;
        this.set({ sink }, n);
      },
    });
    const each = eachRecord({
      groupId: opts.groupId,
      log: opts.log,
      producer: opts.producer,
      handle: (event, record) => this.handle(event, record),
      // A superseded update makes no call (its ledger row only): it need not wait in its message's chain, so a storm
      // summary's hundreds of updates in a batch are marked side by side rather than one ledger round trip after another.
      orderKeys: (event, record) => (this.superseded.has(record) ? [`superseded:${record.offset}`] : orderKeysOf(event, record, opts.notifier)),
      concurrency: opts.commandsConcurrently ?? DEFAULT_SINK_COMMANDS_CONCURRENTLY,
    });
    this.loop = new ConsumeLoop({
      kafka: opts.kafka,
      groupId: opts.groupId,
      topics: [opts.topic],
      log: opts.log,
      commit: 'kafka',
      commitDelayMs: opts.commitDelayMs ?? DEFAULT_SINK_COMMIT_DELAY_MS,
      retry: opts.infraRetry,
      // Each partition's commands stay in order (an incident's commands share its partition); partitions do not
      // wait for each other, so one slow call (or ledger round trip) does not hold back every other incident.
      consumer: { partitionsConcurrently: opts.partitionsConcurrently ?? DEFAULT_SINK_PARTITIONS_CONCURRENTLY },
      metrics: consumeLoopMetrics(opts.registry),
      onAssigned: (assignment) => {
        const mine = new Set(assignment[opts.topic] ?? []);
        for (const [id, w] of this.waiting) if (!mine.has(w.partition)) this.waiting.delete(id);
        opts.notifier.partitionsAssigned?.([...mine]);
      },
      handleBatch: async (batch) => {
        for (const [record, by] of supersededIn(batch.records, opts.notifier)) this.superseded.set(record, by);
        return this.withDeliveriesSent(batch, each);
      },
    });
  }

  /**
   * Runs the batch with the delivery events of its completed commands sent as they come, without waiting for each
   * acknowledgement before the next command: the ledger row (written first) is what makes a command done. A record
   * is resolved only once its own event and every earlier one were acknowledged, so a command whose event was not
   * written comes again, finds its ledger row completed and sends the same event again.
   *
   * When every command of the batch is done in the ledger, the batch is handed back pipelined (`proceed`): the
   * partition is fetched past it while its events' acknowledgements are still awaited, so the next commands do not
   * wait for them. An incident's next command then finds everything of this batch in the ledger (its thread's root
   * ts among it). Should an acknowledgement fail, the partition is rewound to this batch (after the back-off of an
   * infrastructure fault): its commands find their rows completed and send the same events again, and so do the later
   * batches' commands that ran meanwhile; nothing is called twice. A batch settles only after the partition's batches
   * before it, so no commit moves past a batch whose events were not all acknowledged.
   */
  private async withDeliveriesSent(batch: LoopBatch, each: (batch: LoopBatch) => Promise<SettledOutcome>): Promise<BatchOutcome> {
    /** Each record the handler resolved, with how many of the batch's sends it waits for (those made before it). */
    const done: Array<{ offset: string; upTo: number }> = [];
    const sends: Array<Promise<void>> = [];
    for (const record of batch.records) this.sendsOf.set(record, sends);
    let outcome: SettledOutcome = undefined;
    let failure: unknown = null;
    try {
      outcome = await each({ ...batch, resolve: (offset) => done.push({ offset, upTo: sends.length }) });
    } catch (err) {
      failure = err;
    }
    const partitionKey = `${batch.topic}\u0000${batch.partition}`;
    const before = this.acknowledging.get(partitionKey);
    if (failure === null && outcome === undefined && !batch.isStale()) {
      const acknowledged = Promise.all([before, ...sends]).then(() => undefined);
      this.acknowledging.set(partitionKey, acknowledged);
      const forget = () => {
        if (this.acknowledging.get(partitionKey) === acknowledged) this.acknowledging.delete(partitionKey);
      };
      acknowledged.then(forget, forget);
      return { deferred: acknowledged, proceed: Promise.resolve() };
    }
    // An earlier batch of the partition whose acknowledgements failed rewound it: this one is moot, nothing resolved.
    const earlier = await (before ?? Promise.resolve()).then(
      () => null,
      (err: unknown) => ({ err }),
    );
    const results = await Promise.allSettled(sends);
    const firstFailed = results.findIndex((r) => r.status === 'rejected');
    if (firstFailed >= 0) failure ??= (results[firstFailed] as PromiseRejectedResult).reason;
    if (earlier) failure ??= earlier.err;
    const resolved = earlier ? undefined : done.filter((d) => firstFailed < 0 || d.upTo <= firstFailed).at(-1);
    if (resolved) batch.resolve(resolved.offset);
    if (failure !== null) throw failure;
    return outcome;
  }

  /** Sends a completed command's delivery event: with the batch's other sends when the command came in a batch. */
  private emit(record: ConsumedRecord, events: AnyEnvelope[]): Promise<void> {
    const sends = this.sendsOf.get(record);
    const sent = this.opts.producer.send(events).then(() => undefined);
    if (!sends) return sent;
    sent.catch(() => undefined); // awaited by the batch
    sends.push(sent);
    return Promise.resolve();
  }

  get isRunning(): boolean {
    return this.loop.isRunning;
  }

  /** Null while consuming normally, else why not (a crashed consumer, a halted partition). */
  problem(): string | null {
    return this.loop.problem();
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private count(command: AnyEnvelope, outcome: string): void {
    this.deliveries.inc({ sink: this.opts.name, command: command.type, outcome });
  }

  /** Marks the command as waiting for its next try, keeping what its last failure noted. */
  private wait(command: AnyEnvelope, partition: number): void {
    const w = this.waiting.get(command.id);
    this.waiting.set(command.id, { partition, deliveredBefore: w?.deliveredBefore ?? this.delivered, pastBudget: w?.pastBudget ?? false });
  }

  /** Delivery events of a redriven command get ids of their own: the first run's failure keeps its id. */
  private resultId(command: AnyEnvelope, entry: { redriveId: string | null } | undefined): string {
    return entry?.redriveId ? deriveId(command.id, 'delivery', entry.redriveId) : deriveId(command.id, 'delivery');
  }

  private delivery(command: AnyEnvelope, id: string, outcome: DeliveryOutcome, attempts: number, dryRun: boolean): AnyEnvelope {
    const at = this.now().toISOString();
    const cmdData = command.data as { incidentId?: string };
    return makeEnvelope({
      id,
      type: outcome.type,
      alias: command.alias,
      occurredAt: at,
      recordedAt: at,
      source: this.opts.name,
      causationId: command.id,
      correlationId: command.correlationId,
      data: {
        commandId: command.id,
        commandType: command.type,
        incidentId: cmdData.incidentId,
        dryRun,
        attempts,
        ...outcome.data,
      } as never,
    } as never);
  }

  /** An event about the command (a delay, a failure), caused by it, at `now`. */
  private result<T extends 'DeliveryDelayed' | 'DeliveryFailed'>(command: AnyEnvelope, type: T, id: string, now: Date, data: EventData<T>): Envelope<T> {
    return makeEnvelope({
      id,
      type,
      alias: command.alias,
      occurredAt: now.toISOString(),
      recordedAt: now.toISOString(),
      source: this.opts.name,
      causationId: command.id,
      correlationId: command.correlationId,
      data,
    });
  }

  private async handle(command: AnyEnvelope, record: ConsumedRecord): Promise<void | Later> {
    const { ledger, notifier, producer, log } = this.opts;
    if (!notifier.handles.has(command.type)) return;

    if (!this.opts.dryRun && !this.superseded.has(record)) {
      // Held: nothing recorded, nothing resolved; the batch read again after the hold may carry what supersedes it.
      const hold = notifier.holdMs?.(command);
      const holdMs = (hold instanceof Promise ? await hold : hold) ?? 0;
      if (holdMs > 0) {
        this.holds.inc({ sink: this.opts.name, command: command.type });
        return { retryInMs: holdMs, reason: `${command.type} ${command.id} held for ${Math.ceil(holdMs)} ms` };
      }
      // The common case, a command never seen: recorded as started in the same round trip that finds it new.
      // (A command a later one of its batch replaces takes the path below: it is completed as superseded.)
      const fresh = await ledger.startIfNew(command, this.now());
      if (fresh) return this.execute(command, record, undefined, fresh.attempts, fresh.firstAttemptAt);
    }
    let entry = await ledger.lookup(command.id);
    const redriveId = record.headers[HEADERS.redrive];
    if (entry?.status === 'failed' && redriveId && entry.redriveId !== redriveId) {
      if (await ledger.redrive(command.id, redriveId, this.now())) {
        const redrivenBy = record.headers[HEADERS.redrivenBy];
        log.info({ commandId: command.id, type: command.type, redriveId, redrivenBy }, 'redriven command: executing it again');
        entry = await ledger.lookup(command.id);
      }
    }
    if (entry && (entry.status === 'completed' || entry.status === 'failed')) {
      // Done before (a redelivery after a crash, or a redrive of a completed command): re-emit what it
      // produced; downstream drops the same ids.
      if (entry.result) await producer.send(entry.result);
      this.waiting.delete(command.id);
      this.count(command, 'skipped-completed');
      return;
    }

    if (this.opts.dryRun) {
      const outcome = notifier.dryRun(command);
      const event = this.delivery(command, this.resultId(command, entry), outcome, 0, true);
      await ledger.markStarted(command, this.now());
      await ledger.finish(command.id, 'completed', [event], notifier.persist?.(command, outcome));
      await producer.send([event]);
      this.count(command, 'dry-run');
      return;
    }

    const supersededBy = this.superseded.get(record);
    if (supersededBy !== undefined) {
      // A later command of this batch replaces the same message whole: the result at Slack is its content either way.
      await ledger.markSuperseded(command, supersededBy);
      this.waiting.delete(command.id);
      this.count(command, 'superseded');
      return;
    }

    if ((entry?.status === 'delayed' || entry?.status === 'started') && entry.nextAttemptAt) {
      const waitMs = entry.nextAttemptAt.getTime() - this.now().getTime();
      if (waitMs > 0) {
        this.wait(command, record.partition);
        return { retryInMs: waitMs, reason: `${command.type} ${command.id} waits for its next try` };
      }
    }

    if (entry?.status === 'started' && notifier.reconcile) {
      let found: DeliveryOutcome | undefined;
      try {
        found = await notifier.reconcile(command, entry.startedAt, entry.firstAttemptAt ?? undefined);
      } catch (err) {
        // The notifier cannot tell yet and says when to look again (a Retry-After, or an earlier request that may
        // still be pending at the API): the command waits for then, without an error. Other throws are retried by
        // the consume loop's back-off.
        if (!(err instanceof DeliveryError) || err.permanent || err.retryAfterMs === undefined) throw err;
        this.wait(command, record.partition);
        log.info({ commandId: command.id, type: command.type, retryInMs: err.retryAfterMs, reason: err.message }, 'cannot tell yet whether the command took effect; looking again later');
        return { retryInMs: err.retryAfterMs, reason: `${command.type} ${command.id}: ${err.message}` };
      }
      if (found) {
        const event = this.delivery(command, this.resultId(command, entry), found, entry.attempts, false);
        await ledger.finish(command.id, 'completed', [event], notifier.persist?.(command, found));
        await producer.send([event]);
        this.waiting.delete(command.id);
        this.delivered += 1;
        log.info({ commandId: command.id, type: command.type }, 'command had already taken effect (before a restart, or in an attempt that got no answer)');
        this.count(command, 'reconciled');
        return;
      }
    }

    const { attempts, firstAttemptAt } = await ledger.markStarted(command, this.now());
    return this.execute(command, record, entry, attempts, firstAttemptAt);
  }

  /** Executes the command (recorded as started, attempt number `attempts`), and records and emits what came of it. */
  private async execute(
    command: AnyEnvelope,
    record: ConsumedRecord,
    entry: LedgerEntry | undefined,
    attempts: number,
    firstAttemptAt: Date,
  ): Promise<void | Later> {
    const { ledger, notifier } = this.opts;
    let outcome: DeliveryOutcome;
    try {
      outcome = await notifier.execute(command, attempts);
    } catch (err) {
      // Not an answer from the API (Postgres, a bug): the consume loop retries the record, the budget is not spent.
      if (!(err instanceof DeliveryError)) throw err;
      return this.failedAttempt(command, record, entry, err, attempts, firstAttemptAt);
    }
    const event = this.delivery(command, this.resultId(command, entry), outcome, attempts, false);
    await ledger.finish(command.id, 'completed', [event], notifier.persist?.(command, outcome));
    await this.emit(record, [event]);
    this.waiting.delete(command.id);
    this.delivered += 1;
    this.count(command, 'ok');
  }

  private async failedAttempt(
    command: AnyEnvelope,
    record: ConsumedRecord,
    entry: LedgerEntry | undefined,
    err: DeliveryError,
    attempts: number,
    firstAttemptAt: Date,
  ): Promise<void | Later> {
    const { ledger, notifier, producer, log } = this.opts;
    const now = this.now();
    const at = { attempt: attempts, firstAttemptAtMs: firstAttemptAt.getTime(), nowMs: now.getTime() };
    let plan = planDeliveryRetry(err, at, this.policy);
    const incidentId = (command.data as { incidentId?: string }).incidentId;
    const waited = this.waiting.get(command.id);
    let pastBudget = false;
    let budgetReason = '';
    if (!plan.retry && !err.permanent) {
      // The budget is spent on a failure worth retrying. If other commands went through since this one last failed,
      // the API works and refuses this one (a record it keeps failing on): that ends below, in a dead letter, so its
      // partition moves on. If nothing did, it is an outage (or a refused credential every command shares), which
      // delays delivery but never drops it: said once, loudly, and the command keeps waiting at the capped back-off.
      const othersDelivered = waited !== undefined && this.delivered > waited.deliveredBefore;
      if (othersDelivered) {
        budgetReason = '; other commands were delivered meanwhile, so the failure is taken as this command\'s own';
      } else {
        pastBudget = true;
        if (!waited?.pastBudget) {
          this.count(command, 'failed-budget-spent');
          log.error(
            { commandId: command.id, type: command.type, attempt: attempts, firstAttemptAt: firstAttemptAt.toISOString(), error: err.message },
            `delivery retry budget (DELIVERY_RETRY_BUDGET) spent while nothing else was delivered either: the command keeps waiting and is retried until the ${notifier.target} API takes it`,
          );
        }
        plan = planDeliveryRetry(err, at, { ...this.policy, budgetMs: Number.POSITIVE_INFINITY });
      }
    }
    if (plan.retry) {
      const next = new Date(plan.atMs);
      // No answer came (a timeout, a connection lost), or a 500/502/504 (a gateway that gave up after Slack posted):
      // the call may have taken effect. The next attempt looks first (reconcile), or such a post is made twice.
      if (mayHaveTakenEffect(err, this.opts.notifier, command)) await ledger.markUnanswered(command.id, next, err.message);
      else await ledger.markDelayed(command.id, next, err.message);
      const delayed = this.result(command, 'DeliveryDelayed', deriveId(command.id, 'delayed', entry?.redriveId ?? '', attempts), now, {
        commandId: command.id,
        commandType: command.type,
        ...(incidentId ? { incidentId } : {}),
        target: notifier.target,
        attempts,
        lastError: err.message,
        ...(err.httpStatus !== undefined ? { httpStatus: err.httpStatus } : {}),
        ...(err.retryAfterMs !== undefined ? { retryAfterMs: Math.round(err.retryAfterMs) } : {}),
        nextAttemptAt: next.toISOString(),
        firstAttemptAt: firstAttemptAt.toISOString(),
        budgetEndsAt: new Date(firstAttemptAt.getTime() + this.policy.budgetMs).toISOString(),
      });
      await producer.send([delayed]);
      this.waiting.set(command.id, { partition: record.partition, deliveredBefore: this.delivered, pastBudget });
      this.delays.inc({ sink: this.opts.name, command: command.type });
      log.warn(
        { commandId: command.id, type: command.type, attempt: attempts, retryInMs: plan.waitMs, error: err.message },
        'delivery delayed; the commands after it in its partition wait',
      );
      return { retryInMs: plan.waitMs, reason: `${command.type} ${command.id} delayed: ${err.message}` };
    }
    const reason = err.permanent ? err.message : `${err.message} (${plan.reason}${budgetReason})`;
    const failed = this.result(command, 'DeliveryFailed', this.resultId(command, entry), now, {
      commandId: command.id,
      commandType: command.type,
      incidentId,
      target: notifier.target,
      error: reason,
      httpStatus: err.httpStatus,
      permanent: err.permanent,
      attempts,
    });
    if (err instanceof GivenUpError) {
      await ledger.finish(command.id, 'failed', [failed], notifier.persistFailure?.(command));
      await producer.send([failed]);
      this.waiting.delete(command.id);
      log.warn({ commandId: command.id, type: command.type, reason: err.reason, error: reason }, 'delivery given up (not dead-lettered)');
      this.count(command, 'given-up');
      return;
    }
    const dead = deadLetterEvent(
      record,
      this.opts.groupId,
      [{ at: now.toISOString(), error: `${reason} (attempt ${attempts}, first attempt at ${firstAttemptAt.toISOString()})` }],
      now,
    );
    await ledger.finish(command.id, 'failed', [failed, dead], notifier.persistFailure?.(command));
    await producer.send([failed, dead]);
    this.waiting.delete(command.id);
    log.error({ commandId: command.id, type: command.type, error: reason }, 'delivery failed');
    if (err.permanent) this.count(command, 'failed-permanent');
    else if (!waited?.pastBudget) this.count(command, 'failed-budget-spent'); // counted once: when it was first said
  }
}
