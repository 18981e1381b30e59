/**
 * `npm run bench:ingest-rate`: ingest alone at a steady low rate, its CPU per alert and per idle second. Starts its
 * own broker (unless KAFKA_BROKERS is set), ingest as the launcher starts it (fresh topics, nothing reading them), then
 * BENCH_INGEST_WARMUP_S (default 20) of load at BENCH_INGEST_RATE (default 50/s, one alert per request, sent on time
 * whatever the answers), and BENCH_INGEST_ROUNDS (default 2) rounds of BENCH_INGEST_IDLE_S (10) idle followed by
 * BENCH_INGEST_S (20) of load: ingest's CPU from /proc, idle ms per second and ms per alert over the load, and the
 * load's CPU per alert less the idle second's share; the main thread's user and system time apart from the other
 * threads' (V8's compiler and GC helpers), and its context switches (a wake-up is a voluntary one). BENCH_INGEST_NODE_OPTIONS is added to ingest's NODE_OPTIONS only
 * (a profiler or a request counter; with REQCOUNT_DIR the counts a measurement preload writes there are printed).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { serviceDef, startService } from '@alertbus/launcher';
import { alertBody } from './alert-body';
import { processesCpuSeconds } from './cpu';

/** User and system CPU seconds of a process's threads, the main thread (its own tid) apart from the others. */
function threadSplit(pids: readonly number[]): { mainUser: number; mainSys: number; otherUser: number; otherSys: number; vcsw: number; ivcsw: number } {
  const out = { mainUser: 0, mainSys: 0, otherUser: 0, otherSys: 0, vcsw: 0, ivcsw: 0 };
  for (const pid of pids) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const main = Number(tid) === pid;
        out[main ? 'mainUser' : 'otherUser'] += Number(f[11]) / 100;
        out[main ? 'mainSys' : 'otherSys'] += Number(f[12]) / 100;
        if (main) {
          const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
          out.vcsw += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
          out.ivcsw += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
        }
      } catch {
        // the thread ended
      }
    }
  }
  return out;
}

function splitLine(a: ReturnType<typeof threadSplit>, b: ReturnType<typeof threadSplit>, per: number, unit: string): string {
  const d = (k: keyof typeof a) => (((b[k] - a[k]) * (k.endsWith('csw') ? 1 : 1000)) / per).toFixed(k.endsWith('csw') ? 2 : 3);
  return `main thread user ${d('mainUser')} sys ${d('mainSys')}, other threads user ${d('otherUser')} sys ${d('otherSys')} ms per ${unit}; context switches ${d('vcsw')} voluntary, ${d('ivcsw')} not, per ${unit}`;
}

const root = resolve(__dirname, '..');
const RATE = Number(process.env.BENCH_INGEST_RATE ?? 50);
const WARMUP_S = Number(process.env.BENCH_INGEST_WARMUP_S ?? 20);
const IDLE_S = Number(process.env.BENCH_INGEST_IDLE_S ?? 10);
const LOAD_S = Number(process.env.BENCH_INGEST_S ?? 20);
const ROUNDS = Number(process.env.BENCH_INGEST_ROUNDS ?? 2);

/** The KafkaJS request counts a measurement preload writes to REQCOUNT_DIR, summed over its files. */
function requestCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  const dir = process.env.REQCOUNT_DIR;
  if (!dir) return out;
  for (const f of readdirSync(dir)) {
    try {
      const { counts } = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { counts: Record<string, number> };
      for (const [api, n] of Object.entries(counts)) out[api] = (out[api] ?? 0) + n;
    } catch {
      // being written
    }
  }
  return out;
}

function countsLine(before: Record<string, number>, after: Record<string, number>, per: number, unit: string): string {
  return Object.keys(after)
    .map((api) => [api, (after[api]! - (before[api] ?? 0)) / per] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([api, n]) => `${api} ${n.toFixed(2)}`)
    .join(', ')
    .concat(` per ${unit}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `rate` requests a second for `seconds`, each sent on time; resolves with the answers' statuses and times. */
async function steady(url: string, rate: number, seconds: number, base: number): Promise<{ ok: number; other: number; ms: number[] }> {
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const ms: number[] = [];
  let ok = 0;
  let other = 0;
  const inflight: Promise<void>[] = [];
  for (let k = 0; k < total; k++) {
    const wait = start + (k * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = performance.now();
    inflight.push(
      fetch(`${url}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: alertBody(base + k) }).then(
        async (res) => {
          await res.arrayBuffer();
          if (res.status === 202) ok++;
          else other++;
          ms.push(performance.now() - sent);
        },
        () => void other++,
      ),
    );
  }
  await Promise.all(inflight);
  return { ok, other, ms: ms.sort((a, b) => a - b) };
}

async function main(): Promise<void> {
  const { createKafka, ensureTopics, startLocalBroker } = await import('@alertbus/kafka');
  process.env.KAFKA_TOPIC_PREFIX = `rate${Date.now().toString(36)}.`;
  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
  }
  await ensureTopics(createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-ingest-rate' }));
  const extra = process.env.BENCH_INGEST_NODE_OPTIONS;
  const { supervisor, port } = await startService(serviceDef('ingest'), {
    root,
    env: {
      ...process.env,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      INGEST_HOST: '127.0.0.1',
      ...(extra ? { NODE_OPTIONS: [process.env.NODE_OPTIONS, extra].filter(Boolean).join(' ') } : {}),
    },
    supervisor: { output: (name, line) => process.stderr.write(`[${name}] ${line}\n`) },
  });
  const url = `http://127.0.0.1:${port}`;
  const cpu = () => processesCpuSeconds(supervisor.pids());
  try {
    console.log(`ingest's process: ${supervisor.pids().join(' ')}`);
    console.log(`ingest alone at ${RATE}/s: warm-up ${WARMUP_S} s, then ${ROUNDS} × (${IDLE_S} s idle, ${LOAD_S} s load)`);
    let base = 0;
    const warm = await steady(url, RATE, WARMUP_S, base);
    base += warm.ok + warm.other;
    for (let round = 1; round <= ROUNDS; round++) {
      await sleep(1000);
      const idle0 = cpu();
      const idleSplit0 = threadSplit(supervisor.pids());
      const idleCounts0 = requestCounts();
      await sleep(IDLE_S * 1000);
      const idleMsPerS = ((cpu() - idle0) * 1000) / IDLE_S;
      const idleCounts = countsLine(idleCounts0, requestCounts(), IDLE_S, 's');
      const idleSplit = splitLine(idleSplit0, threadSplit(supervisor.pids()), IDLE_S, 's');
      const load0 = cpu();
      const loadSplit0 = threadSplit(supervisor.pids());
      const loadCounts0 = requestCounts();
      const t0 = performance.now();
      const run = await steady(url, RATE, LOAD_S, base);
      const seconds = (performance.now() - t0) / 1000;
      const used = (cpu() - load0) * 1000;
      const loadSplit = splitLine(loadSplit0, threadSplit(supervisor.pids()), run.ok + run.other, 'alert');
      base += run.ok + run.other;
      const n = run.ok + run.other;
      const perAlert = used / n;
      const lessIdle = (used - idleMsPerS * seconds) / n;
      const p = (q: number) => run.ms[Math.min(run.ms.length - 1, Math.floor(q * run.ms.length))]?.toFixed(1);
      console.log(
        `round ${round}: idle ${idleMsPerS.toFixed(1)} ms/s` +
          `; load ${run.ok} × 202 (${run.other} other) in ${seconds.toFixed(1)} s: ${perAlert.toFixed(3)} ms CPU per alert (${lessIdle.toFixed(3)} less the idle)` +
          `; answer p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`,
      );
      console.log(`  idle: ${idleSplit}`);
      console.log(`  load: ${loadSplit}`);
      if (process.env.REQCOUNT_DIR) {
        console.log(`  Kafka requests idle: ${idleCounts}`);
        console.log(`  Kafka requests load: ${countsLine(loadCounts0, requestCounts(), n, 'alert')}`);
      }
    }
  } finally {
    await supervisor.stop();
    await stopBroker?.();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
