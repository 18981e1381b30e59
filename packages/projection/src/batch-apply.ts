/**
 * One partition's batch applied in one Postgres transaction with the offset it covers: shared by the live
 * projector and the rebuild, so both make exactly the same rows from the same records.
 */
import type { Pool, PoolClient, QueryResult } from 'pg';
import { inTransactionWithStatements } from '@alertbus/common';
import { readNextOffsetForUpdateSql, readNextOffsetsForUpdateSql, storeNextOffsetSql, storeNextOffsetsSql, type OffsetKey } from './offset-store';
import { applyProjection } from './apply';
import { applyProjections, type AdoptableDeliveries } from './apply-many';
import { planBatch, type PlannableRecord } from './batch-plan';
import { keepableAsRecorded, project } from './project';
import type { ApplyOutcome, Projection } from './types';
import { decodeEnvelope, type ValidationResult } from '@alertbus/schemas';

export interface Rejected<R> {
  record: R;
  error: string;
  reason: 'invalid' | 'unprojectable';
}

export interface BatchResult<R> {
  applied: Map<string, number>;
  duplicates: number;
  alreadyApplied: number;
  rejected: Array<Rejected<R>>;
  nextOffset: string | null;
}

export interface BatchTarget<R> {
  pool: Pool;
  /** The `consumer` of the stored offsets. */
  consumer: string;
  /**
   * Called inside the transaction, before the offset is stored, with the records set aside: what is done
   * with them (a dead letter, a count) happens before the offsets say they were covered.
   */
  onRejected: (rejected: Array<Rejected<R>>) => Promise<void>;
  /**
   * For a target that is the only writer of its tables (the rebuild's replay), the same for all its batches: the
   * incidents with deliveries a new one adopts, noted as they are written (see AdoptableDeliveries).
   */
  adoptable?: AdoptableDeliveries;
}

/**
 * The projection has applied more of a partition than the log now holds: the broker lost records, or it is
 * another cluster. Nothing is applied; `alertbus history rebuild` rebuilds the projection from this log.
 */
export class ProjectionAheadOfLog extends Error {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly stored: string,
    readonly logEnd: string,
  ) {
    super(
      `history has applied ${topic}[${partition}] up to offset ${stored}, but the log ends at ${logEnd}: the broker lost ` +
        'records, or it is another cluster. Nothing more is applied; run `alertbus history rebuild` to rebuild the projection from this log',
    );
    this.name = 'ProjectionAheadOfLog';
  }
}

/**
 * Records prepared between two turns of the event loop (about a millisecond of work): every statement of the
 * transaction in flight waits for the turn in progress when its answer arrives, and a transaction makes a
 * dozen round trips, so a long turn adds to each of them.
 */
const PREPARE_SLICE = 25;

/**
 * Decodes and projects a partition's records ahead of applyRecordBatch: pure work that can run while
 * Postgres applies the previous batch. The projection is the one applyRecordBatch would make itself.
 */
export async function prepareRecords<R extends { topic: string; partition: number; offset: string; value: Buffer | string | null }>(
  records: readonly R[],
): Promise<Array<R & { decoded: ValidationResult; projection?: Projection }>> {
  const out: Array<R & { decoded: ValidationResult; projection?: Projection }> = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % PREPARE_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const r = records[i]!;
    const decoded = decodeEnvelope(r.value, r.topic);
    // Object.assign, not a spread followed by more keys: Node 20 moves such literals to the old space at once.
    out[i] = decoded.ok
      ? Object.assign({}, r, {
          decoded,
          projection: project(decoded.event, { topic: r.topic, partition: r.partition, offset: r.offset }, { keepable: keepableAsRecorded(r.value) }),
        })
      : Object.assign({}, r, { decoded });
  }
  return out;
}

/**
 * Whether a prepared batch only adds timeline rows (inputs and commands do): no delivery row and no change to an
 * incident, silence or notification. Such a batch's transaction reads no row another batch writes (besides its
 * own partition's offset) and writes none another reads, so it may run at the same time as any other batch of
 * another partition. An event id two batches both hold is still stored once (the unique key decides).
 */
export function onlyTimelineRows(records: ReadonlyArray<{ decoded: ValidationResult; projection?: Projection }>): boolean {
  return records.every((r) => !r.decoded.ok || (r.projection !== undefined && r.projection.delivery === null && r.projection.changes.length === 0));
}

/**
 * Set first in every batch's transaction, in the round trip of its BEGIN: no JIT compilation of its statements.
 * A batch's statements each touch a few thousand rows by index, where compiling one costs more than running it.
 * Postgres decides on JIT from the planner's estimated cost, which for the incident insert's look-up of earlier
 * deliveries grows with the table when its statistics are missing or stale (no ANALYZE since the rows came: a
 * server without autovacuum, or right after a large backlog). Past jit_above_cost each such insert was compiled,
 * with optimisation and inlining past 500,000: a quarter of Postgres's CPU late in a 1M-event projection, and the
 * projection's rate fell with the table's size (bench/README.md, "Twenty-seventh run"). SET LOCAL ends with the
 * transaction, so the API's queries on the same pool keep the server's setting.
 */
const BATCH_SETTINGS = 'SET LOCAL jit = off';

/**
 * Taken first (with BEGIN) by a batch's transaction that changes incidents, deliveries, silences or notifications: such
 * transactions run one at a time across every history instance writing the same tables, as each process already runs
 * its own one after the other. Two at once, under READ COMMITTED, can each miss the other's rows: an incident inserted by
 * one instance and the root post or page that links to it by another (two topics' partitions, spread over the group)
 * left the incident without its Slack thread or its pager alert, for good, and a rebuild then differed from the live
 * tables. A batch of timeline rows only takes no lock (it reads and writes no row another transaction does). One lock per
 * schema: a rebuild, in a schema of its own, does not wait for the live projection.
 */
const SERIAL_LOCK = `SELECT pg_advisory_xact_lock(${0x616c6274}, hashtext(current_schema()))`;

/** What a batch's transaction sends with BEGIN, ending with `read`: its result is the last of `begun`. */
const beginStatements = (records: ReadonlyArray<{ decoded: ValidationResult; projection?: Projection }>, read: string): string =>
  onlyTimelineRows(records) ? `${BATCH_SETTINGS}; ${read}` : `${BATCH_SETTINGS}; ${SERIAL_LOCK}; ${read}`;

/** Postgres refused the values (SQLSTATE class 22 data exception or 23 constraint): retrying cannot help. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/** An event id already in the timeline (or another unique key): the batch holds a duplicate. */
const isUniqueViolation = (err: unknown): boolean => (err as { code?: unknown })?.code === '23505';

/**
 * How a batch's transaction applies it: `copy` copies its rows without looking for their event ids first (the
 * usual case: records beyond the stored offset are new events); `look-up` finds the ids already applied and
 * copies the others; `isolate` applies record by record under savepoints.
 */
type ApplyMode = 'copy' | 'look-up' | 'isolate';

/**
 * Applies the records beyond the stored offset. A batch holding an event already applied (its id at another
 * offset, e.g. written twice by a producer retry) is applied again with a look-up of its ids. When Postgres
 * refuses a record, the batch is retried record by record under savepoints, and only the refused records are set
 * aside. Any other failure is thrown.
 */
export async function applyRecordBatch<R extends PlannableRecord>(
  target: BatchTarget<R>,
  topic: string,
  partition: number,
  records: readonly R[],
  onIsolating?: (err: unknown) => void,
  /** The partition's end when the batch was read: a stored offset beyond it is refused (ProjectionAheadOfLog). */
  logEnd?: string,
): Promise<BatchResult<R>> {
  try {
    return await applyInTransaction(target, topic, partition, records, 'copy', logEnd);
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (isUniqueViolation(err)) {
      try {
        return await applyInTransaction(target, topic, partition, records, 'look-up', logEnd);
      } catch (again) {
        if (!isDataError(again)) throw again;
        err = again;
      }
    }
    onIsolating?.(err);
    return applyInTransaction(target, topic, partition, records, 'isolate', logEnd);
  }
}

/** One partition's batch of a group (applyRecordBatches). */
export interface PartitionBatch<R> {
  topic: string;
  partition: number;
  records: readonly R[];
  /** The partition's end when the batch was read (see applyRecordBatch). */
  logEnd?: string;
}

/**
 * Several partitions' batches in one transaction (a group commit): their stored offsets read `FOR UPDATE` in one
 * statement with BEGIN, the records beyond them applied in one applyProjections (the rows of the batches applied one
 * after the other, in the order given), every new offset stored in one statement with COMMIT. One result per batch,
 * in order. Each partition at most once.
 *
 * All or nothing, and no fallback here: when Postgres refuses a value or finds an event already applied (isDataError),
 * or a partition's stored offset lies beyond its log end (ProjectionAheadOfLog), nothing is applied and the error is
 * thrown: the caller applies the batches one by one with applyRecordBatch, which tells the duplicates and isolates
 * the refused records. Any other failure is thrown too.
 */
export async function applyRecordBatches<R extends PlannableRecord>(
  target: BatchTarget<R>,
  batches: ReadonlyArray<PartitionBatch<R>>,
): Promise<Array<BatchResult<R>>> {
  if (batches.length === 0) return [];
  const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  if (new Set(batches.map((b) => keyOf(b.topic, b.partition))).size !== batches.length) {
    throw new Error('applyRecordBatches: a partition holds more than one batch of the group');
  }
  const begin = beginStatements(batches.flatMap((b) => b.records), readNextOffsetsForUpdateSql(target.consumer, batches));
  return inTransactionWithStatements(target.pool, begin, async (client, begun) => {
    const read = begun[begun.length - 1];
    const storedOf = new Map<string, string>();
    for (const row of (read as QueryResult<{ topic: string; partition: number; next_offset: string | number }>).rows) {
      storedOf.set(keyOf(row.topic, row.partition), String(row.next_offset));
    }
    const planned = batches.map((b) => planStored(b.topic, b.partition, b.records, storedOf.get(keyOf(b.topic, b.partition)) ?? null, b.logEnd));
    // Without a look-up: an event already applied fails the group (23505), and the caller goes batch by batch.
    const outcomes = await applyProjections(client, planned.flatMap((p) => p.projections), { lookUp: false, adoptable: target.adoptable });
    let from = 0;
    const results = planned.map(({ plan, result }) => {
      countOutcomes(result, plan.apply, outcomes.slice(from, (from += plan.apply.length)));
      return result;
    });
    await target.onRejected(results.flatMap((r) => r.rejected));
    const offsets = batches.flatMap((b, n) => {
      const next = results[n]!.nextOffset;
      return next === null ? [] : [{ topic: b.topic, partition: b.partition, next }];
    });
    return { result: results, beforeCommit: offsets.length === 0 ? null : storeNextOffsetsSql(target.consumer, offsets) };
  });
}

function applyInTransaction<R extends PlannableRecord>(
  target: BatchTarget<R>,
  topic: string,
  partition: number,
  records: readonly R[],
  mode: ApplyMode,
  logEnd: string | undefined,
): Promise<BatchResult<R>> {
  return inOffsetTransaction(target.pool, { consumer: target.consumer, topic, partition }, records, async (client, stored) => {
    const { plan, result, projections } = planStored(topic, partition, records, stored, logEnd);
    if (plan.nextOffset === null) return { result, nextOffset: null };
    // The whole batch in a few statements; when Postgres refuses it, record by record to find the refused ones
    // (applyProjection looks up every new incident's deliveries: only the rows it writes need noting).
    if (mode === 'isolate') target.adoptable?.note(projections.map((p) => p.delivery));
    const outcomes =
      mode === 'isolate'
        ? await sequentially(projections, (p) => applyIsolated(client, () => applyProjection(client, p)))
        : await applyProjections(client, projections, { lookUp: mode === 'look-up', adoptable: target.adoptable });
    countOutcomes(result, plan.apply, outcomes);
    await target.onRejected(result.rejected);
    return { result, nextOffset: plan.nextOffset };
  });
}

/**
 * A batch planned against its partition's stored offset (refused when that lies beyond the log's end): what to apply,
 * its projections, and the result so far (the invalid records).
 */
function planStored<R extends PlannableRecord>(topic: string, partition: number, records: readonly R[], stored: string | null, logEnd: string | undefined) {
  if (stored !== null && logEnd !== undefined && BigInt(logEnd) < BigInt(stored)) {
    throw new ProjectionAheadOfLog(topic, partition, stored, logEnd);
  }
  const plan = planBatch(records, stored);
  const result: BatchResult<R> = {
    applied: new Map(),
    duplicates: 0,
    alreadyApplied: plan.alreadyApplied,
    rejected: plan.invalid.map(({ record, error }) => ({ record, error, reason: 'invalid' as const })),
    nextOffset: plan.nextOffset,
  };
  const projections = plan.apply.map(({ record, event }) => record.projection ?? project(event, { topic, partition, offset: record.offset }));
  return { plan, result, projections };
}

/** Each applied record's outcome counted into the batch's result: applied by type, a duplicate, or refused by Postgres. */
function countOutcomes<R extends PlannableRecord>(
  result: BatchResult<R>,
  apply: ReadonlyArray<{ record: R; event: { type: string } }>,
  outcomes: ReadonlyArray<ApplyOutcome | { error: string }>,
): void {
  apply.forEach(({ record, event }, i) => {
    const outcome = outcomes[i]!;
    if (outcome === 'duplicate') result.duplicates += 1;
    else if (outcome === 'applied') result.applied.set(event.type, (result.applied.get(event.type) ?? 0) + 1);
    else result.rejected.push({ record, error: `Postgres refused it: ${outcome.error}`, reason: 'unprojectable' });
  });
}

/**
 * A transaction that locks a partition's stored offset first and stores the new one last (when fn gives one), as
 * inTransaction with readNextOffset and storeNextOffset would, in two round trips fewer: the read travels with
 * BEGIN, the store with COMMIT. A batch's transaction is some three to ten statements, and each round trip waits
 * for the event loop's turn in progress when its answer arrives.
 */
function inOffsetTransaction<T>(
  pool: Pool,
  key: OffsetKey,
  records: ReadonlyArray<{ decoded: ValidationResult; projection?: Projection }>,
  fn: (client: PoolClient, stored: string | null) => Promise<{ result: T; nextOffset: string | null }>,
): Promise<T> {
  return inTransactionWithStatements(pool, beginStatements(records, readNextOffsetForUpdateSql(key)), async (client, begun) => {
    const read = begun[begun.length - 1];
    const stored = (read!.rows[0] as { next_offset: string | number } | undefined)?.next_offset;
    const { result, nextOffset } = await fn(client, stored === undefined ? null : String(stored));
    return { result, beforeCommit: nextOffset === null ? null : storeNextOffsetSql(key, nextOffset) };
  });
}

async function sequentially<T, U>(items: readonly T[], fn: (item: T) => Promise<U>): Promise<U[]> {
  const out: U[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

async function applyIsolated<T>(client: PoolClient, fn: () => Promise<T>): Promise<T | { error: string }> {
  await client.query('SAVEPOINT record');
  try {
    const value = await fn();
    await client.query('RELEASE SAVEPOINT record');
    return value;
  } catch (err) {
    if (!isDataError(err)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT record');
    return { error: (err as Error).message };
  }
}
