/**
 * Router memory with many distinct aliases, as the router holds them: the pure decider decides one firing
 * alert per alias, each state kept packed in its partition's store and in the index, resolved ones in the expiry
 * queue (ROUTER_STATE_RETENTION). Prints the resident set size with every alias open, with every alias
 * resolved, and after event time has moved past the retention (the evictions). V8 runs with the flags the router's
 * start sets, in a process started with the Node options and environment of the router's (the launcher's table;
 * BENCH_ROUTER_PROCESS=0 runs without them, in this process).
 *
 *   node --expose-gc --max-old-space-size=8192 --import tsx bench/router-memory.ts   (BENCH_ROUTER_ALIASES=1000000)
 */
import { spawnSync } from 'node:child_process';
import { serviceDef } from '@alertbus/launcher';
import type { Envelope } from '@alertbus/schemas';
import {
  builtinRules,
  decide,
  DEFAULT_STATE_RETENTION_MS,
  EVICTION_GRACE_MS,
  ExpiryQueue,
  expiresAt,
  isIncidentState,
  PackedStore,
  packedRecords,
  packState,
  StateIndex,
  stateKey,
  unpackState,
  type RouterState,
} from '@alertbus/routing';
import { alert, T0 } from '@alertbus/routing/src/test-support/alerts';
import { keepShortLivedObjectsYoung } from '@alertbus/router';
import { getHeapSpaceStatistics } from 'node:v8';

const ALIASES = Number(process.env.BENCH_ROUTER_ALIASES ?? 1_000_000);
const PARTITIONS = 6;
const rules = builtinRules({ defaultChannel: '#alerts' });

/** One alert per alias, as ingest would write it (the router tests' builder), `at` ms after T0. */
function input(i: number, status: 'firing' | 'resolved', at: number): Envelope<'AlertReceived'> {
  return alert(`alertmanager:bench${i.toString(16).padStart(12, '0')}`, status, {
    at,
    title: `Disk almost full on host-${i}`,
    severity: 'warning',
    labels: { alertname: 'DiskFull', instance: `host-${i}:9100`, job: 'node', severity: 'warning', team: 'storage' },
    links: [{ title: 'Source', url: `http://prometheus:9090/graph?g0.expr=disk&host=${i}` }],
    raw: { fingerprint: `bench${i}` },
  });
}

// What the processor holds: a map per input partition (packed states), the index over every incident, an expiry queue per partition.
const partitions = Array.from({ length: PARTITIONS }, () => new PackedStore());
const index = new StateIndex();
const queues = Array.from({ length: PARTITIONS }, () => new ExpiryQueue());
const partitionOf = (i: number) => i % PARTITIONS;

function keep(i: number, s: RouterState | undefined): void {
  if (!s) return;
  const p = partitionOf(i);
  const packed = packState(s, stateKey(s));
  partitions[p]!.set(stateKey(s), packed);
  if (isIncidentState(s)) index.set(s, packed);
  const at = expiresAt(s, DEFAULT_STATE_RETENTION_MS);
  if (at !== null) queues[p]!.push(stateKey(s), at);
}

/**
 * After full collections until the RSS stops falling, with a pause after each for the collector's background
 * threads to hand freed pages back: right after the first, the old space is as fragmented as the decisions
 * left it (their garbage promoted among the states), which later collections compact, as an idle router's do.
 */
async function rssMb(): Promise<{ rss: number; heap: number; buffers: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let m = process.memoryUsage();
  for (let i = 0; gc && i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 500));
    const next = process.memoryUsage();
    const settled = next.rss > m.rss * 0.98;
    m = next;
    if (settled && i > 0) break;
  }
  return { rss: Math.round(m.rss / 1e6), heap: Math.round(m.heapUsed / 1e6), buffers: Math.round(m.arrayBuffers / 1e6) };
}

const held = () => partitions.reduce((n, m) => n + m.size, 0);

/** What the packed records and their tables hold, outside the V8 heap (capacities, not pages written). */
function outside(): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const a = packedRecords.footprint();
  const stores = partitions.reduce((n, m) => n + m.footprint, 0);
  return (
    `                         records ${mb(a.live)} MB live, ${mb(a.used)} used of a ${mb(a.capacity)} MB buffer; ` +
    `per id ${mb(a.ids)} MB, table ${mb(a.table)} MB; partitions' stores ${mb(stores)} MB; index ${mb(index.footprint)} MB\n` +
    `                         V8 spaces (size / used MB): ${getHeapSpaceStatistics()
      .filter((s) => s.space_size > 1e6)
      .map((s) => `${s.space_name.replace('_space', '')} ${mb(s.space_size)} / ${mb(s.space_used_size)}`)
      .join(', ')}`
  );
}

/** The alias's committed state, as the processor reads it before deciding. */
function stateOf(alias: string, i: number): RouterState | undefined {
  const packed = partitions[partitionOf(i)]!.get(alias);
  return packed === undefined ? undefined : unpackState(packed, alias);
}

async function main(): Promise<void> {
  // As the router's start does (services/router/src/heap.ts).
  keepShortLivedObjectsYoung();
  if (!(globalThis as { gc?: () => void }).gc) console.log('(run with --expose-gc for exact figures)');
  const base = await rssMb();
  console.log(`\n## router memory with ${ALIASES.toLocaleString('en')} distinct aliases (ROUTER_STATE_RETENTION ${DEFAULT_STATE_RETENTION_MS / 86_400_000}d)`);
  console.log(`baseline               : rss ${base.rss} MB  heap ${base.heap} MB  buffers ${base.buffers} MB`);

  let started = Date.now();
  for (let i = 0; i < ALIASES; i++) {
    const e = input(i, 'firing', i);
    keep(i, decide(e, stateOf(e.alias, i), rules, { neighbours: index, retentionMs: DEFAULT_STATE_RETENTION_MS }).state);
  }
  const open = await rssMb();
  console.log(
    `all open               : rss ${open.rss} MB  heap ${open.heap} MB  buffers ${open.buffers} MB  (${held().toLocaleString('en')} states, ` +
      `${Math.round(((open.rss - base.rss) * 1e6) / ALIASES)} bytes/alias rss, decided in ${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  console.log(outside());

  started = Date.now();
  const resolvedAt = ALIASES + 60_000;
  for (let i = 0; i < ALIASES; i++) {
    const e = input(i, 'resolved', resolvedAt + i);
    keep(i, decide(e, stateOf(e.alias, i), rules, { neighbours: index, retentionMs: DEFAULT_STATE_RETENTION_MS }).state);
  }
  const resolved = await rssMb();
  console.log(`all resolved           : rss ${resolved.rss} MB  heap ${resolved.heap} MB  buffers ${resolved.buffers} MB  (${held().toLocaleString('en')} states, in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  console.log(outside());

  // Event time moves past retention + grace (the next inputs' recordedAt): everything resolved is evicted.
  const horizon = T0 + resolvedAt + ALIASES + DEFAULT_STATE_RETENTION_MS + EVICTION_GRACE_MS;
  let evicted = 0;
  partitions.forEach((states, p) => {
    for (const key of queues[p]!.popDue(horizon - EVICTION_GRACE_MS)) {
      const packed = states.get(key);
      const s = packed === undefined ? undefined : unpackState(packed, key);
      const at = s ? expiresAt(s, DEFAULT_STATE_RETENTION_MS) : null;
      if (!s || at === null || at > horizon - EVICTION_GRACE_MS) continue;
      states.delete(key);
      index.delete(key);
      evicted += 1;
    }
  });
  const after = await rssMb();
  console.log(`after the retention    : rss ${after.rss} MB  heap ${after.heap} MB  buffers ${after.buffers} MB  (${evicted.toLocaleString('en')} evicted, ${held()} states held)`);
  console.log(outside());
}

/** Runs this file again in a child started as the router's process is; false when this is that child (or not wanted). */
function inRouterProcess(): boolean {
  if (process.env.BENCH_ROUTER_PROCESS === '0') return false;
  const def = serviceDef('router');
  const r = spawnSync(process.execPath, [...process.execArgv, ...(def.nodeArgs ?? []), process.argv[1]!], {
    stdio: 'inherit',
    env: { ...def.env, ...process.env, BENCH_ROUTER_PROCESS: '0' },
  });
  process.exitCode = r.status ?? 1;
  return true;
}

if (!inRouterProcess()) void main();
