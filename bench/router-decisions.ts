/**
 * Router decisions per second, on a mixed stream: new aliases, repeats, resolves, and storm-sized bursts
 * into one channel, with storm control and an inhibition rule in force (bench/router-decisions.rules.yaml).
 *   (a) the pure decider loop (Replayer: every decision sees every other alias, as one router instance does); its
 *       figures include the bench's JSON and sha256 of every output, and the time of those is printed beside them;
 *   (b) a real router (services/router) draining the same stream pre-filled on Kafka to its end.
 * Throughput is printed per slice of the stream, so a cost that grows with the open incidents shows.
 *
 *   npm run bench:router            BENCH_ROUTER_N=20000 (inputs), BENCH_ROUTER_KAFKA=0 skips (b)
 *   node --cpu-prof --import tsx bench/router-decisions.ts   for a profile
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const N = Number(process.env.BENCH_ROUTER_N ?? 20_000);
const SLICES = 4;
const WITH_KAFKA = process.env.BENCH_ROUTER_KAFKA !== '0' && Boolean(process.env.KAFKA_BROKERS);
// Topics and the router's group of their own, so a run never meets another run's records (bench/run.ts sets a prefix of its own).
process.env.KAFKA_TOPIC_PREFIX = `bench-router-${process.pid}-${Date.now()}.`;

async function main(): Promise<void> {
  const { compileRules, Replayer, DEFAULT_STATE_RETENTION_MS } = await import('@alertbus/routing');
  const { alert } = await import('@alertbus/routing/src/test-support/alerts');
  const rulesPath = join(__dirname, 'router-decisions.rules.yaml');
  const compiled = compileRules(readFileSync(rulesPath), rulesPath, { defaultChannel: '#alerts' });
  if (!compiled.ok) throw new Error(compiled.message);
  const rules = compiled.rules;

  /** A deterministic stream: 10 ms apart; every 2,000th input starts a burst of 500 new aliases 1 ms apart into #storm. */
  function stream(n: number) {
    let seed = 42;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const open: string[] = [];
    const out = [];
    let at = 0;
    let burst = 0;
    let fresh = 0;
    for (let i = 0; i < n; i++) {
      const r = rand();
      let alias: string;
      let status: 'firing' | 'resolved' = 'firing';
      let team = `t${Math.floor(rand() * 20)}`;
      if (i % 2_000 === 0) burst = 500;
      if (burst > 0) {
        burst -= 1;
        at += 1;
        team = 'storm';
        alias = `alertmanager:b${fresh++}`;
        open.push(alias);
      } else {
        at += 10;
        if (r < 0.55 || open.length < 10) {
          alias = `alertmanager:a${fresh++}`;
          open.push(alias);
        } else {
          const k = Math.floor(rand() * open.length);
          alias = open[k]!;
          if (r >= 0.8) {
            status = 'resolved';
            open[k] = open[open.length - 1]!;
            open.pop();
          }
        }
      }
      const severity = rand() < 0.01 ? 'critical' : 'warning';
      out.push(
        alert(alias, status, {
          at,
          n: i,
          title: `Disk almost full on ${alias}`,
          severity,
          labels: { alertname: 'DiskFull', instance: `${alias}:9100`, cluster: `c${Math.floor(rand() * 200)}`, team, severity },
          raw: { fingerprint: alias },
        }),
      );
    }
    return out;
  }

  const inputs = stream(N);
  const kinds = { new: new Set(inputs.map((i) => i.alias)).size, resolves: inputs.filter((i) => i.data.status === 'resolved').length };
  console.log(`\n## router decisions: ${N.toLocaleString('en')} inputs (${kinds.new.toLocaleString('en')} aliases, ${kinds.resolves.toLocaleString('en')} resolves), rules ${rulesPath}`);

  // (a) the pure decider loop
  const replayer = new Replayer(rules, { retentionMs: DEFAULT_STATE_RETENTION_MS });
  const slice = Math.ceil(N / SLICES);
  const rates: string[] = [];
  const events = new Map<string, number>();
  const digest = createHash('sha256');
  let bytes = 0;
  let summaryBytes = 0;
  /**
   * The bench's own JSON and digest of the outputs are inside the timed loop, not the decider's work: done every 256
   * decisions, in order, with the CPU they take counted apart (two calls to the clock per batch, not per decision).
   */
  let pending: Array<{ type: string; alias: string }> = [];
  let digestCpuUs = 0;
  let digestMainUs = 0;
  const digestPending = () => {
    const at = process.cpuUsage();
    const mainAt = mainThreadCpuUs();
    for (const e of pending) {
      events.set(e.type, (events.get(e.type) ?? 0) + 1);
      const json = JSON.stringify(e);
      digest.update(json);
      bytes += json.length;
      if (e.type === 'UpdateSlackMessage' && e.alias.startsWith('storm:')) summaryBytes += json.length;
    }
    pending = [];
    const used = process.cpuUsage(at);
    digestCpuUs += used.user + used.system;
    digestMainUs += mainThreadCpuUs() - mainAt;
  };
  /** CPU µs per decision of the decider alone, per quarter: the first quarter pays for compiling, the later ones vary less between runs. */
  const quarterCpu: string[] = [];
  const quarterMain: string[] = [];
  const mainStart = mainThreadCpuUs();
  let quarterMainStart = mainStart;
  let quarterMainDigest = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let t = started;
  let quarterStart = cpu;
  let quarterDigest = 0;
  for (let i = 0; i < N; i++) {
    for (const e of replayer.decide(inputs[i]!).events) pending.push(e);
    const endOfQuarter = (i + 1) % slice === 0 || i === N - 1;
    if (i % 256 === 255 || endOfQuarter) digestPending();
    if (endOfQuarter) {
      const now = process.hrtime.bigint();
      const n = (i % slice) + 1;
      rates.push(Math.round(n / (Number(now - t) / 1e9)).toLocaleString('en'));
      t = now;
      const used = process.cpuUsage(quarterStart);
      quarterCpu.push(((used.user + used.system - (digestCpuUs - quarterDigest)) / n).toFixed(0));
      quarterStart = process.cpuUsage();
      quarterDigest = digestCpuUs;
      const main = mainThreadCpuUs();
      quarterMain.push(((main - quarterMainStart - (digestMainUs - quarterMainDigest)) / n).toFixed(0));
      quarterMainStart = main;
      quarterMainDigest = digestMainUs;
    }
  }
  const pureSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const mainUs = mainThreadCpuUs() - mainStart - digestMainUs;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  console.log(`pure decider           : ${Math.round(N / pureSeconds).toLocaleString('en')} decisions/s (per quarter of the stream: ${rates.join(' → ')})`);
  // On a shared machine the wall clock counts other processes' time too: the CPU time this one spent is steadier.
  console.log(`pure decider, CPU      : ${Math.round(N / cpuSeconds).toLocaleString('en')} decisions per CPU-second (${((cpuSeconds * 1e6) / N).toFixed(0)} µs each, collector threads included)`);
  const deciderSeconds = cpuSeconds - digestCpuUs / 1e6;
  console.log(`of which the bench's   : ${(digestCpuUs / N).toFixed(0)} µs of CPU per decision on its own JSON and sha256 of the outputs`);
  console.log(`decider alone, CPU     : ${Math.round(N / deciderSeconds).toLocaleString('en')} decisions per CPU-second (${((deciderSeconds * 1e6) / N).toFixed(0)} µs each, collector threads included; per quarter of the stream: ${quarterCpu.join(' → ')} µs)`);
  if (Number.isFinite(mainUs)) {
    // Of that, the main thread's own (what the decisions run on): the rest is V8's helper threads, compiling hot
    // functions (most of the first quarter's excess) and the collector's concurrent marking and sweeping.
    console.log(`decider alone, main    : ${(mainUs / N).toFixed(0)} µs of the main thread's CPU per decision (per quarter of the stream: ${quarterMain.join(' → ')} µs; the rest is V8's compiler and collector threads)`);
  }
  console.log(`outputs                : ${[...events].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`outputs, JSON          : ${(bytes / 1e6).toFixed(1)} MB, of which storm summary updates ${(summaryBytes / 1e6).toFixed(1)} MB`);
  console.log(`outputs sha256         : ${digest.digest('hex')} (the same inputs and rules must always give this)`);

  if (!WITH_KAFKA) {
    console.log('via Kafka              : skipped (KAFKA_BROKERS unset or BENCH_ROUTER_KAFKA=0)');
    return;
  }
  await viaKafka(inputs);
}

/** This thread's CPU time in µs from Linux's schedstat (nanoseconds on a CPU), NaN elsewhere. */
function mainThreadCpuUs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]) / 1000;
  } catch {
    return Number.NaN;
  }
}

/** CPU ms of this process's main thread and of its other threads from Linux's /proc (threads that ended are not counted), empty elsewhere. */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const tick = 10; // USER_HZ 100
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
      const name = tid === String(process.pid) ? 'main' : 'others';
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * tick);
    }
  } catch {
    out.clear();
  }
  return out;
}

/** (b) Pre-fills alerts.received.v1, then starts a router and times it from ready to the group's offsets at the end. */
async function viaKafka(inputs: Array<import('@alertbus/schemas').Envelope<'AlertReceived'>>): Promise<void> {
  const { createKafka, ensureTopics, EventProducer } = await import('@alertbus/kafka');
  const { GROUPS, TOPICS } = await import('@alertbus/schemas');
  const { createLogger } = await import('@alertbus/common');
  const { startRouter } = await import('@alertbus/router');
  const brokers = process.env.KAFKA_BROKERS!.split(',');
  const kafka = createKafka({ brokers, clientId: 'bench-router', log: createLogger('bench', 'silent') });
  await ensureTopics(kafka);
  const producer = new EventProducer(kafka);
  await producer.connect();
  for (let i = 0; i < inputs.length; i += 200) await producer.send(inputs.slice(i, i + 200));
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(TOPICS.alertsReceived);
  const total = ends.reduce((n, p) => n + Number(p.high), 0);

  const rssBefore = process.memoryUsage().rss;
  const router = await startRouter({ brokers, port: 0, watchRules: false, rulesPath: join(__dirname, 'router-decisions.rules.yaml'), log: createLogger('bench-router', process.env.BENCH_LOG_LEVEL ?? 'warn') });
  await router.ready;
  const started = Date.now();
  // The router runs in this process: its CPU time per decision is steadier than the wall clock on a shared machine (the broker's is not counted).
  const cpu = process.cpuUsage();
  const threadsBefore = threadCpuMs();
  let done = 0;
  for (;;) {
    const [offsets] = await admin.fetchOffsets({ groupId: GROUPS.router, topics: [TOPICS.alertsReceived] });
    done = offsets!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    if (done >= total) break;
    if (Date.now() - started > 600_000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (Date.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const threadsAfter = threadCpuMs();
  const metrics = await fetch(`${router.url}/metrics`).then((r) => r.text());
  const metric = (name: string) =>
    metrics
      .split('\n')
      .filter((l) => l.startsWith(name) && !l.startsWith('#'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  const transactions = metric('alertbus_router_batch_records_count');
  console.log(
    `via Kafka              : ${Math.round(done / seconds).toLocaleString('en')} decisions/s (${done.toLocaleString('en')} inputs in ${seconds.toFixed(1)} s, ` +
      `${transactions} transactions, ${Math.round(done / Math.max(1, transactions))} inputs each, ` +
      `${router.concurrentTransactionRetries} CONCURRENT_TRANSACTIONS retries, process rss +${Math.round((process.memoryUsage().rss - rssBefore) / 1e6)} MB)`,
  );
  console.log(`via Kafka, router CPU  : ${Math.round(done / cpuSeconds).toLocaleString('en')} decisions per CPU-second of the router's process (${((cpuSeconds * 1e6) / done).toFixed(0)} µs each; the broker's not counted)`);
  if (threadsAfter.size > 0) {
    // The main thread decides and talks Kafka; the others are V8's helpers (collector, compiler) and libuv's.
    const split = [...threadsAfter].map(([name, ms]) => [name, ms - (threadsBefore.get(name) ?? 0)] as const).filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]);
    console.log(`via Kafka, by thread   : ${split.map(([name, ms]) => `${name} ${((ms * 1000) / done).toFixed(0)} µs`).join(' · ')} per decision`);
  }
  await router.close();
  const topics = Object.values(TOPICS).filter((t) => t.startsWith(process.env.KAFKA_TOPIC_PREFIX!));
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
