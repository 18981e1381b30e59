/**
 * `npm run bench:projection` (and a section of `npm run bench`): how fast history projects a pre-filled
 * topic set, and how long `alertbus history rebuild` takes over it. Figures, not pass/fail.
 *
 *  1. Fills fresh topics with BENCH_PROJECTION_EVENTS events (default 200,000) from the generated stream
 *     history's tests use (inputs, decisions, commands in router-style transactions, deliveries).
 *  2. Starts the history service from the launcher's table, as `npm start` does, on an empty database, and
 *     times its consume loop from the first projected event to the last: events/s.
 *  3. Rebuilds the projection from the same topics into the separate schema (no swap), and compares its
 *     checksum with the live tables': the rebuild's time, and whether the two match.
 *  4. Prints the rebuild time of 1M events: measured when N ≥ 1M, else extrapolated linearly, labelled so.
 *  Beside the wall-clock figures, the CPU seconds the work cost (the history process or this one, and their
 *  Postgres backends): on a shared machine those move less when others are busy.
 */
import { resolve } from 'node:path';
import { Client } from 'pg';
import { serviceDef, startService, type Supervisor } from '@alertbus/launcher';
import { BackendCpu, cpuSeconds } from './cpu';
import { rssMb } from './rss';
import { benchRuntime, runtimeLabel } from './runtime';

const root = resolve(__dirname, '..');
/** What the services run from (BENCH_RUNTIME), the compiled output built first when it is `dist`. */
const RUNTIME = benchRuntime(root);
const TARGET_EVENTS = Number(process.env.BENCH_PROJECTION_EVENTS ?? 200_000);
/** The bench's own database, dropped and created again by each run (a name of letters, digits and `_`). */
const DATABASE = process.env.BENCH_PROJECTION_DATABASE ?? 'alertbus_bench_projection';
if (!/^[a-z_][a-z0-9_]*$/.test(DATABASE)) throw new Error(`BENCH_PROJECTION_DATABASE: not a plain database name: ${DATABASE}`);
/** Aliases per generated chunk: about 18 events each, so a chunk is some 35k events. */
const CHUNK_ALIASES = 2_000;
/** No progress for this long ends the wait for the projection. */
const STALL_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rate = (n: number, ms: number) => Math.round(n / (ms / 1000)).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function timelineRows(db: Client): Promise<number> {
  try {
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM incident_timeline');
    return Number(rows[0]!.n);
  } catch {
    return 0; // not migrated yet
  }
}

/**
 * The sum of the projection's stored offsets: it moves with every committed batch (the rows and their offset commit
 * together), and reading it costs the same at any size. Counting the timeline's rows every 250 ms instead cost
 * Postgres 61 ms a poll on average over a run of 200k (a scan of the table, growing with it), on the cores the
 * projection runs on.
 */
async function offsetsSum(db: Client): Promise<bigint> {
  try {
    const { rows } = await db.query<{ s: string }>('SELECT coalesce(sum(next_offset), 0)::text AS s FROM projection_offsets');
    return BigInt(rows[0]!.s);
  } catch {
    return 0n; // not migrated yet
  }
}

async function main(): Promise<void> {
  const tag = `benchproj${Date.now().toString(36)}.`;
  process.env.KAFKA_TOPIC_PREFIX = tag;
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertbus');
  dbUrl.pathname = `/${DATABASE}`;
  const databaseUrl = dbUrl.toString();
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const adminDb = new Client({ connectionString: admin.toString() });
  await adminDb.connect();
  await adminDb.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await adminDb.query(`CREATE DATABASE ${DATABASE}`);
  await adminDb.end();

  // Imported after the prefix is set: topic names are fixed when the schemas module loads.
  const { createKafka, ensureTopics, startLocalBroker } = await import('@alertbus/kafka');
  const { MIGRATIONS_DIR, rebuildProjection } = await import('@alertbus/projection');
  const { buildStream } = await import('../services/history/src/testdata/stream');
  const { produceStream } = await import('../services/history/src/testdata/produce');

  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
  }
  const kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-projection' });
  await ensureTopics(kafka);

  console.log(`\n## projection and rebuild (${TARGET_EVENTS.toLocaleString('en-US')} events asked for, topics ${tag}*; history: ${runtimeLabel(RUNTIME)})`);
  const produceStarted = Date.now();
  let events = 0;
  for (let k = 0; events < TARGET_EVENTS; k++) {
    const stream = buildStream({ aliases: CHUNK_ALIASES, seed: `bench-${k}`, start: new Date(Date.parse('2025-01-01T00:00:00Z') + k * 86_400_000).toISOString() });
    const chunk = stream.events.slice(0, TARGET_EVENTS - events);
    await produceStream(kafka, chunk, { perTransaction: 1_000 });
    events += chunk.length;
  }
  console.log(`filled the topics       : ${events.toLocaleString('en-US')} events in ${seconds(Date.now() - produceStarted)}`);

  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  let history: Supervisor | undefined;
  try {
    const started = await startService(serviceDef('history'), {
      root,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        HISTORY_HOST: '127.0.0.1',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        // For a profile of the history process alone: `--require $PWD/bench/cpu-profile.cjs` (Node 20 refuses `--cpu-prof` here).
        ...(process.env.BENCH_HISTORY_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_HISTORY_NODE_OPTIONS } : {}),
      },
      supervisor: { output: (name, line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`[${name}] ${line}\n`) },
      runtime: RUNTIME,
    });
    history = started.supervisor;
    let first: { at: number; rows: number } | null = null;
    let last = { at: Date.now(), rows: 0 };
    let peakRss = 0;
    let historyCpu = 0;
    const historyPg = new BackendCpu(db);
    // Progress is read from the stored offsets; the rows are counted only when they stand still (at the end).
    let offsets = 0n;
    while (last.rows < events && Date.now() - last.at < STALL_MS) {
      await sleep(250);
      const sum = await offsetsSum(db);
      const now = Date.now();
      if (sum !== offsets) {
        offsets = sum;
        if (first === null) first = { at: now, rows: await timelineRows(db) };
        last = { at: now, rows: first.rows };
      } else if (first !== null) {
        last = { at: last.at, rows: await timelineRows(db) };
      }
      for (const pid of history.pids()) {
        peakRss = Math.max(peakRss, rssMb(pid) ?? 0);
        historyCpu = Math.max(historyCpu, cpuSeconds(pid) ?? 0);
      }
      await historyPg.sample();
    }
    if (first === null || last.rows <= first.rows) {
      console.log(`projection              : no progress measured (${last.rows} of ${events} rows)`);
    } else {
      const n = last.rows - first.rows;
      const ms = last.at - first.at;
      console.log(
        `projection (history)    : ${n.toLocaleString('en-US')} events in ${seconds(ms)} → ${rate(n, ms)} events/s  (target ≥ 20,000/s; ` +
          `timed from the first row seen, polled every 250 ms${last.rows < events ? `; STALLED at ${last.rows} of ${events}` : ''})`,
      );
    }
    console.log(`history RSS (peak seen) : ${peakRss.toFixed(0)} MB  (target ≤ 200 MB)`);
    console.log(
      `projection CPU          : history ${historyCpu.toFixed(1)} s (start-up included), its Postgres backends ≥ ${historyPg.total().toFixed(1)} s ` +
        '(user + system: what the work cost, less distorted than wall time on a busy machine)',
    );
    await history.stop();
    history = undefined;

    const rebuildCpuStart = process.cpuUsage();
    const rebuildPg = new BackendCpu(db);
    let rebuildRss = process.memoryUsage.rss();
    const sampling = setInterval(() => {
      rebuildRss = Math.max(rebuildRss, process.memoryUsage.rss());
      void rebuildPg.sample().catch(() => undefined);
    }, 500);
    // The CPU of the replay alone (this process; its Postgres backends, sampled once more as the comparison begins).
    let replayCpu: { self: number; pg: Promise<number> } | null = null;
    const result = await rebuildProjection({
      databaseUrl,
      kafka,
      migrationsDir: MIGRATIONS_DIR,
      swap: false,
      onProgress: (p) => {
        if (p.phase !== 'compare' || replayCpu !== null) return;
        const used = process.cpuUsage(rebuildCpuStart);
        replayCpu = { self: (used.user + used.system) / 1e6, pg: rebuildPg.sample().then(() => rebuildPg.total(), () => rebuildPg.total()) };
      },
    });
    clearInterval(sampling);
    const replayCpuSeen = replayCpu as { self: number; pg: Promise<number> } | null;
    const rebuildCpu = process.cpuUsage(rebuildCpuStart);
    const replayMs = result.phases.replayMs;
    console.log(
      `rebuild                 : ${result.records.toLocaleString('en-US')} records in ${seconds(result.durationMs)} (replay ${seconds(replayMs)} → ` +
        `${rate(result.records, replayMs)} events/s; the rest is setting up, indexes, ANALYZE and both checksums)`,
    );
    const ph = result.phases;
    console.log(
      `rebuild phases          : replay ${seconds(ph.replayMs)}; then at the same time: indexes ${seconds(ph.indexesMs)} and ANALYZE ` +
        `${seconds(ph.analyzeMs)}, checksum rebuilt ${seconds(ph.rebuiltChecksumMs)}, checksum live ${seconds(ph.liveChecksumMs)}` +
        (ph.liveSummedDuringReplay ? ' (the live one during the replay)' : ''),
    );
    console.log(
      `rebuild CPU             : this process ${((rebuildCpu.user + rebuildCpu.system) / 1e6).toFixed(1)} s, Postgres backends ≥ ${rebuildPg.total().toFixed(1)} s` +
        (replayCpuSeen ? `; of it the replay: ${replayCpuSeen.self.toFixed(1)} s, ≥ ${(await replayCpuSeen.pg).toFixed(1)} s` : ''),
    );
    console.log(`rebuild RSS (peak seen) : ${(rebuildRss / 1024 / 1024).toFixed(0)} MB (this process, sampled every 500 ms; it also filled the topics)`);
    console.log(`rebuild look-ups        : ${result.deliveryLookUps.toLocaleString('en-US')} new incidents looked up their earlier deliveries`);
    console.log(
      `rebuilt = live          : ${result.matches === null ? `not compared (${result.notCompared})` : result.matches ? 'yes, identical checksums' : 'NO, checksums differ'}`,
    );
    const perMillion = (result.durationMs / result.records) * 1_000_000;
    console.log(
      result.records >= 1_000_000
        ? `rebuild of 1M events    : measured ${seconds((result.durationMs / result.records) * 1_000_000)} per 1M (target ≤ 60 s)`
        : `rebuild of 1M events    : ~${seconds(perMillion)} EXTRAPOLATED linearly from ${result.records.toLocaleString('en-US')} records, not measured (target ≤ 60 s; ` +
            'BENCH_PROJECTION_EVENTS=1000000 measures it)',
    );
  } finally {
    await history?.stop();
    await db.end();
    if (stopBroker) await stopBroker();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
