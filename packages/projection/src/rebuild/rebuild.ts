/**
 * `alertbus history rebuild`: replays every projected topic from its first offset into a separate Postgres
 * schema, compares the result with the live tables at the same offsets, and swaps it in within one
 * transaction, so the live service can keep running (its next batch simply reads the swapped-in tables).
 */
import type { Pool } from 'pg';
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import {
  createPool,
  ensureDatabase,
  infraBackoffMs,
  inTransaction,
  isInfrastructureError,
  loadMigrations,
  migrate,
  pgTimeoutsFromEnv,
  type Migration,
} from '@alertbus/common';
import { readRanges, wholeTopicRanges, type ConsumedRecord, type OffsetRange } from '@alertbus/kafka';
import { GROUPS, TOPICS } from '@alertbus/schemas';
import { AdoptableDeliveries } from '../apply-many';
import { applyRecordBatch, onlyTimelineRows, prepareRecords } from '../batch-apply';
import { currentClusterId, rebindCluster, storedClusterId } from '../cluster';
import { PROJECTED_TOPICS } from '../topics';
import { checksum, checksumIn, PROJECTION_TABLES, type Checksum } from './checksum';
import { compareOffsets, readOffsets, type OffsetComparison } from './offsets';

export const REBUILD_SCHEMA = 'history_rebuild';
const REPLACED_SCHEMA = 'history_replaced';
/**
 * Largest batch of one partition the replay takes at once (one transaction): fewer, larger transactions than
 * KafkaJS' 1 MiB default, with two batches in memory at most (see replay).
 */
const REPLAY_BATCH_BYTES = 4 * 1024 * 1024;
/** Held for the whole rebuild: one rebuild at a time per database. */
const REBUILD_LOCK = 7423101;

export interface RebuildProgress {
  phase: 'replay' | 'catch-up' | 'compare' | 'swap';
  covered: bigint;
  total: bigint;
  records: number;
}

export interface RebuildOptions {
  databaseUrl: string;
  kafka: Kafka;
  migrationsDir: string;
  /** The live projector's consumer name (its stored offsets); default GROUPS.history. */
  groupId?: string;
  topics?: readonly string[];
  /** false: build and compare only, leave the live tables as they are. Default true. */
  swap?: boolean;
  /**
   * Swap in even when the live tables hold another consumer's offsets (another installation's history: another
   * KAFKA_TOPIC_PREFIX on the same database). Default false: such a rebuild is refused before it starts.
   */
  replaceOther?: boolean;
  /** How long to wait for a live projector that is behind the rebuilt one before giving up the comparison. */
  waitForLiveMs?: number;
  log?: Logger;
  onProgress?: (p: RebuildProgress) => void;
}

export interface RebuildResult {
  records: number;
  applied: number;
  duplicates: number;
  /** Records the live projector dead-letters (invalid, or refused by Postgres); skipped here the same way. */
  rejected: number;
  durationMs: number;
  /** The rebuilt tables, at the offsets the comparison was made (and swapped in, unless swap is false). */
  checksum: Checksum;
  /** The live tables at the same offsets, or null when the live projection could not be caught at them. */
  live: Checksum | null;
  matches: boolean | null;
  /** Why the comparison could not be made, when it could not. */
  notCompared: string | null;
  swapped: boolean;
  /** New incidents whose earlier deliveries the replay looked up (see AdoptableDeliveries). */
  deliveryLookUps: number;
  /**
   * Milliseconds spent in each step (the last attempt's, for the comparison): the replay (with any catch-up);
   * then, at the same time on three connections, building the deferred indexes (then ANALYZE), the checksum of
   * the rebuilt tables, and the live snapshot's checksum.
   */
  phases: RebuildPhases;
}

export interface RebuildPhases {
  replayMs: number;
  indexesMs: number;
  analyzeMs: number;
  rebuiltChecksumMs: number;
  liveChecksumMs: number;
  /**
   * The live snapshot compared was the one taken while the replay ran (its offsets were those the replay reached):
   * then liveChecksumMs overlapped the replay, not the steps after it.
   */
  liveSummedDuringReplay: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function rebuildProjection(opts: RebuildOptions): Promise<RebuildResult> {
  const started = Date.now();
  const groupId = opts.groupId ?? GROUPS.history;
  const topics = opts.topics ?? PROJECTED_TOPICS;
  const migrations = loadMigrations(opts.migrationsDir);
  // A batch job: connecting may time out like everywhere, statements may run long (a checksum of every row).
  const timeouts = { ...pgTimeoutsFromEnv(), statementTimeoutMs: 6 * 3_600_000 };
  await ensureDatabase(opts.databaseUrl, timeouts);
  const live = createPool(opts.databaseUrl, 3, timeouts);
  // The rebuilt tables are thrown away if anything fails before the swap (which commits on the live pool,
  // durably): their own commits need not wait for the disk.
  const rebuilt = createPool(opts.databaseUrl, 3, timeouts, { options: `-c search_path=${REBUILD_SCHEMA},public -c synchronous_commit=off` });
  const lockClient = await live.connect();
  try {
    const { rows } = await lockClient.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [REBUILD_LOCK]);
    if (!rows[0]!.locked) throw new Error('another history rebuild is running on this database');
    await migrate(live, 'history', migrations);
    if (opts.swap !== false && !opts.replaceOther) await refuseOtherInstallation(live, groupId);
    await createRebuildSchema(live, migrations);
    // The rebuilt projection belongs to the cluster it is read from; a live one of another cluster is not
    // compared with it (its offsets mean nothing here), only replaced.
    const clusterId = await currentClusterId(opts.kafka);
    const liveCluster = await storedClusterId(live, groupId);
    const otherCluster = liveCluster !== null && liveCluster !== clusterId ? liveCluster : null;

    const counts = { records: 0, applied: 0, duplicates: 0, rejected: 0 };
    const phases: RebuildPhases = { replayMs: 0, indexesMs: 0, analyzeMs: 0, rebuiltChecksumMs: 0, liveChecksumMs: 0, liveSummedDuringReplay: false };
    const timed = async <T>(phase: Exclude<keyof RebuildPhases, 'liveSummedDuringReplay'>, fn: () => Promise<T>, add = false): Promise<T> => {
      const t0 = Date.now();
      try {
        return await fn();
      } finally {
        phases[phase] = (add ? phases[phase] : 0) + Date.now() - t0;
      }
    };
    // The replay (and its catch-ups) is the only writer of the rebuilt tables: it knows which incidents have deliveries
    // to adopt, and a new incident without any is inserted without looking its deliveries up.
    const target = { pool: rebuilt, consumer: groupId, onRejected: async () => undefined, adoptable: new AdoptableDeliveries() };
    const apply = async (topic: string, partition: number, records: Awaited<ReturnType<typeof prepareRecords<ConsumedRecord>>>) => {
      // A batch is applied until it is: an outage of Postgres delays the rebuild, it never skips a batch.
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await applyRecordBatch(target, topic, partition, records);
          counts.records += records.length;
          counts.duplicates += result.duplicates;
          counts.rejected += result.rejected.length;
          for (const n of result.applied.values()) counts.applied += n;
          return;
        } catch (err) {
          if (!isInfrastructureError(err)) throw err;
          opts.log?.warn({ err, topic, partition, attempt }, 'rebuild: could not apply a batch; trying again');
          await sleep(infraBackoffMs(attempt));
        }
      }
    };
    const replay = async (ranges: OffsetRange[], phase: RebuildProgress['phase'], before = { covered: 0n, total: 0n }) => {
      // Batches that change incidents, deliveries, silences or notifications are applied one after the other, as
      // the live projector does; one that only adds timeline rows beside them (see onlyTimelineRows). One batch
      // of each kind in Postgres while the next is decoded and projected: at most three batches in memory. A
      // partition's batches are applied in their order whatever lane they take.
      const lanes = { serial: Promise.resolve(), side: Promise.resolve() };
      const partitionDone = new Map<string, Promise<void>>();
      await readRanges({
        kafka: opts.kafka,
        ranges,
        log: opts.log,
        maxBytesPerPartition: REPLAY_BATCH_BYTES,
        onProgress: (p) => opts.onProgress?.({ phase, covered: before.covered + p.covered, total: before.total + p.total, records: counts.records }),
        onBatch: async (batch) => {
          const records = await prepareRecords(batch.records);
          const lane = onlyTimelineRows(records) ? 'side' : 'serial';
          const key = `${batch.topic}|${batch.partition}`;
          const previous = partitionDone.get(key);
          await lanes[lane];
          if (previous) await previous;
          const applying = apply(batch.topic, batch.partition, records);
          applying.catch(() => undefined); // awaited by a later batch or at the end
          lanes[lane] = applying;
          partitionDone.set(key, applying);
          await batch.heartbeat();
        },
      });
      await Promise.all([lanes.serial, lanes.side]);
    };

    const deferred = await dropDeferrableIndexes(rebuilt);
    // The live tables summed while the replay runs, on their own connection: a live projection that stands still
    // (stopped, or nothing new written) is then already summed at the offsets the replay reaches, and after the replay
    // only the rebuilt tables' checksum and indexes remain, two jobs instead of three. A live projection that moved
    // meanwhile is summed again after the replay, as before; this one is then thrown away.
    const earlyStarted = Date.now();
    let early: Promise<{ snapshot: LiveSnapshot; ms: number } | null> | null = otherCluster
      ? null
      : liveSnapshot(live, groupId).then(
          (snapshot) => ({ snapshot, ms: Date.now() - earlyStarted }),
          (err: unknown) => {
            opts.log?.warn({ err }, 'rebuild: could not sum the live tables during the replay; summing them after it');
            return null;
          },
        );
    await timed('replayMs', async () => {
      // The delivery results last, once every incident they name is stored: a new incident then has no delivery to
      // adopt (and the replay knows it, see AdoptableDeliveries), and a root post or page updates the stored row
      // instead. Read in one pass with the decisions, most deliveries came first (a smaller topic is read faster),
      // and each new incident looked its own up: a page read from outside the buffer cache per incident
      // (bench/README.md). The projection does not depend on which topic is read first (topics.ts).
      const ranges = await wholeTopicRanges(opts.kafka, topics);
      const last = ranges.filter((r) => r.topic === TOPICS.deliveries);
      const first = ranges.filter((r) => r.topic !== TOPICS.deliveries);
      const total = (rs: OffsetRange[]) => rs.reduce((n, r) => n + (BigInt(r.to) > BigInt(r.from) ? BigInt(r.to) - BigInt(r.from) : 0n), 0n);
      await replay(first, 'replay', { covered: 0n, total: total(last) });
      if (last.length > 0) await replay(last, 'replay', { covered: total(first), total: total(first) });
    });
    // The deferred indexes are built (once) while the rebuilt rows are summed on another connection: the checksum
    // reads only the rows, and each of the two is mostly one backend's work.
    let indexed: Promise<void> | null = null;
    const finishRebuilt = () => {
      indexed ??= timed('indexesMs', () => createIndexes(rebuilt, deferred));
      return summarize(rebuilt, indexed, phases);
    };

    const waitUntil = Date.now() + (opts.waitForLiveMs ?? 15_000);
    // The rebuilt tables change only in a catch-up: their statistics and checksum are made once per state,
    // on the rebuilt pool while the live snapshot is taken on the other.
    let rebuiltSummed: Promise<Checksum> | null = null;
    for (let attempt = 1; ; attempt++) {
      opts.onProgress?.({ phase: 'compare', covered: 0n, total: 0n, records: counts.records });
      const rebuiltOffsets = await readOffsets(rebuilt, REBUILD_SCHEMA, groupId);
      rebuiltSummed ??= finishRebuilt();
      rebuiltSummed.catch(() => undefined); // awaited below, or before a catch-up
      const taken = early ? await early : null;
      early = null;
      let snapshot: LiveSnapshot;
      if (taken !== null && sameOffsets(taken.snapshot.offsets, rebuiltOffsets)) {
        snapshot = taken.snapshot;
        phases.liveChecksumMs = taken.ms;
        phases.liveSummedDuringReplay = true;
      } else {
        snapshot = await timed('liveChecksumMs', () => liveSnapshot(live, groupId));
        phases.liveSummedDuringReplay = false;
      }
      const cmp = otherCluster ? { liveAhead: [], liveBehind: [] } : compareOffsets(snapshot.offsets, rebuiltOffsets);
      if (cmp.liveAhead.length > 0) {
        await rebuiltSummed;
        rebuiltSummed = null;
        await timed(
          'replayMs',
          () => replay(cmp.liveAhead.map((d) => ({ topic: d.topic, partition: d.partition, from: d.rebuilt ?? '0', to: d.live! })), 'catch-up'),
          true,
        );
        continue;
      }
      if (cmp.liveBehind.length > 0 && Date.now() < waitUntil) {
        await sleep(250);
        continue;
      }
      const rebuiltSum = await rebuiltSummed;
      const compared = cmp.liveBehind.length === 0 && !otherCluster;
      const outcome = {
        ...counts,
        deliveryLookUps: target.adoptable.lookedUp,
        phases,
        checksum: rebuiltSum,
        live: compared ? snapshot.checksum : null,
        matches: compared ? snapshot.checksum.total === rebuiltSum.total : null,
        notCompared: compared
          ? null
          : otherCluster
            ? `the live projection was built from another Kafka cluster (${otherCluster}); this one is ${clusterId}`
            : describeBehind(cmp),
      };
      if (opts.swap === false) return { ...outcome, swapped: false, durationMs: Date.now() - started };
      opts.onProgress?.({ phase: 'swap', covered: 0n, total: 0n, records: counts.records });
      const swapped = await swapIfUnchanged(live, groupId, clusterId, snapshot.offsets, rebuiltOffsets, attempt >= 10 && !otherCluster);
      if (swapped) return { ...outcome, swapped: true, durationMs: Date.now() - started };
      // The live projector moved on between the comparison and the lock: catch up and compare again.
    }
  } finally {
    await dropSchema(live, REBUILD_SCHEMA).catch((err) => opts.log?.warn({ err }, 'could not drop the rebuild schema'));
    await lockClient.query('SELECT pg_advisory_unlock($1)', [REBUILD_LOCK]).catch(() => undefined);
    lockClient.release();
    await rebuilt.end();
    await live.end();
  }
}

/**
 * Refuses a rebuild whose swap would replace another installation's history: the live tables hold offsets of another
 * consumer than the one rebuilt (its group is named by its KAFKA_TOPIC_PREFIX). With a wrong prefix the live projection
 * looked merely behind, and after a wait the rebuild replaced it with another installation's incidents.
 */
async function refuseOtherInstallation(live: Pool, groupId: string): Promise<void> {
  const { rows } = await live.query<{ consumer: string }>('SELECT DISTINCT consumer FROM projection_offsets WHERE consumer <> $1 ORDER BY consumer', [groupId]);
  if (rows.length === 0) return;
  const others = rows.map((r) => JSON.stringify(r.consumer)).join(', ');
  throw new Error(
    `the live projection in this database holds the history of ${others}, not of ${JSON.stringify(groupId)}: KAFKA_TOPIC_PREFIX ` +
      `or DATABASE_URL points at another installation, and a rebuild would replace its history with this one's. ` +
      'Check both; to replace it on purpose, pass --replace-other',
  );
}

/**
 * The checksum of the rebuilt tables, made while their indexes are built (`indexed`) and then ANALYZEd: fresh
 * tables have no planner statistics yet, and without them the first queries after the swap plan badly. The
 * statistics of an expression index (the text search's) are gathered only once the index exists.
 */
async function summarize(pool: Pool, indexed: Promise<void>, phases: RebuildPhases): Promise<Checksum> {
  const analyzed = (async () => {
    await indexed;
    const t0 = Date.now();
    for (const { table } of PROJECTION_TABLES) await pool.query(`ANALYZE ${REBUILD_SCHEMA}.${table}`);
    phases.analyzeMs = Date.now() - t0;
  })();
  const t0 = Date.now();
  const summed = checksum(pool, REBUILD_SCHEMA).then((sum) => {
    phases.rebuiltChecksumMs = Date.now() - t0;
    return sum;
  });
  const [, sum] = await Promise.all([analyzed, summed]);
  return sum;
}

/** A fresh schema with the projection's tables, made by the same migrations as the live ones. */
function createRebuildSchema(pool: Pool, migrations: Migration[]): Promise<void> {
  return inTransaction(pool, async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${REBUILD_SCHEMA} CASCADE`);
    await client.query(`CREATE SCHEMA ${REBUILD_SCHEMA}`);
    await client.query(`SET LOCAL search_path TO ${REBUILD_SCHEMA}, public`);
    for (const m of migrations) await client.query(m.sql);
  });
}

/**
 * Indexes the replay itself uses: the unique ones (ON CONFLICT, updates by id) and the deliveries' index by
 * incident (a new incident adopts its earlier deliveries through it).
 */
const REPLAY_INDEXES = ['deliveries_by_incident_idx'];

/**
 * The other indexes serve readers, not the replay: built once over the finished tables instead of row by
 * row during it. Returns their definitions (read in the rebuilt schema's search path) to create them again.
 */
async function dropDeferrableIndexes(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string; def: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(c.oid) AS def
       FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT x.indisunique AND NOT x.indisprimary AND c.relname <> ALL($2::text[])`,
    [REBUILD_SCHEMA, REPLAY_INDEXES],
  );
  for (const { name } of rows) await pool.query(`DROP INDEX ${REBUILD_SCHEMA}.${ident(name)}`);
  return rows.map((r) => r.def);
}

async function createIndexes(pool: Pool, defs: readonly string[]): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`SET maintenance_work_mem = '256MB'`);
    for (const def of defs) await client.query(def);
  } finally {
    client.release();
  }
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function dropSchema(pool: Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

interface LiveSnapshot {
  offsets: Map<string, string>;
  checksum: Checksum;
}

/** The live offsets and checksum from one snapshot, so the two describe the same moment. */
function liveSnapshot(pool: Pool, groupId: string): Promise<LiveSnapshot> {
  return inTransaction(
    pool,
    async (client) => ({ offsets: await readOffsets(client, 'public', groupId), checksum: await checksumIn(client, 'public') }),
    'snapshot',
  );
}

function describeBehind(cmp: OffsetComparison): string {
  const missing = cmp.liveBehind.reduce((n, d) => n + (BigInt(d.rebuilt!) - BigInt(d.live ?? '0')), 0n);
  return `the live projection is behind the log by ${missing} offsets in ${cmp.liveBehind.length} partitions (is the history service stopped?)`;
}

/**
 * The live tables in the order the swap locks them: `projection_offsets` first, as every transaction of the live
 * projector begins by locking its partition's offset row (`FOR UPDATE`) and only then writes the other tables. Locked
 * last, the swap held the other tables while it waited for that row, and the projector's next write waited for the
 * swap: a deadlock, which Postgres ended by failing the swap (the rebuild exited 1 while events kept arriving).
 */
const SWAP_LOCK_ORDER = ['projection_offsets', ...PROJECTION_TABLES.map((t) => t.table).filter((t) => t !== 'projection_offsets')];
const DEADLOCK_DETECTED = '40P01';

/**
 * Under an exclusive lock on the live tables: when the live offsets are still those compared (or, after
 * many attempts, at least not ahead of the rebuilt ones), move the live tables out and the rebuilt ones in.
 */
async function swapIfUnchanged(
  pool: Pool,
  groupId: string,
  clusterId: string,
  compared: Map<string, string>,
  rebuilt: Map<string, string>,
  acceptProgress: boolean,
): Promise<boolean> {
  // When the offsets moved, nothing is changed: the transaction only took the lock and read, and ends.
  return inTransaction(pool, async (client) => {
    try {
      await client.query(`LOCK TABLE ${SWAP_LOCK_ORDER.map((table) => `public.${table}`).join(', ')} IN ACCESS EXCLUSIVE MODE`);
    } catch (err) {
      // Postgres chose this transaction to end a deadlock: the live projector goes on, and the swap is tried again.
      if ((err as { code?: string }).code === DEADLOCK_DETECTED) return false;
      throw err;
    }
    const now = await readOffsets(client, 'public', groupId);
    const unchanged = sameOffsets(now, compared);
    const safe = compareOffsets(now, rebuilt).liveAhead.length === 0;
    if (!unchanged && !(acceptProgress && safe)) return false;
    await client.query(`DROP SCHEMA IF EXISTS ${REPLACED_SCHEMA} CASCADE`);
    await client.query(`CREATE SCHEMA ${REPLACED_SCHEMA}`);
    for (const { table } of PROJECTION_TABLES) await client.query(`ALTER TABLE public.${table} SET SCHEMA ${REPLACED_SCHEMA}`);
    for (const { table } of PROJECTION_TABLES) await client.query(`ALTER TABLE ${REBUILD_SCHEMA}.${table} SET SCHEMA public`);
    await client.query(`DROP SCHEMA ${REPLACED_SCHEMA} CASCADE`);
    await rebindCluster(client, groupId, clusterId);
    return true;
  });
}

function sameOffsets(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}
