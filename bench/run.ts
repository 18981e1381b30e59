/**
 * `npm run bench`: figures, not pass/fail (bench/README.md says what each one means).
 *  1. Intake, side by side in one run under the same autocannon load: a bare fastify handler parsing the
 *     same body, Prometheus Alertmanager's in-memory intake (/api/v2/alerts) when its binary is available,
 *     and ingest (202 only after acks=all), alone and with the whole stack running as `npm start` runs it.
 *  2. Webhook → Slack call latency (p50, p99) at a steady request rate through that whole stack.
 *  3. RSS of every service at the end of each stack's run (VmRSS of the supervisor's children).
 *  4. Projection and rebuild rates (bench/projection.ts, in a process of its own; BENCH_PROJECTION_EVENTS, 1M here).
 *  5. Routing decisions and regexes (pure): an ordinary alert next to a backtracking bait (bench/regex.ts).
 *  6. Router memory with 1M distinct aliases (bench/router-memory.ts, in a process of its own; BENCH_ROUTER_ALIASES).
 *  7. A storm of 20,000 unique alerts in groups of 100 through the whole stack (bench/storm.ts, in a process of its
 *     own; BENCH_STORM_ALERTS): time to all in the history, Slack posts, pages.
 *  8. Router decisions per second on a pre-filled topic (bench/router-decisions.ts, in a process of its own; BENCH_ROUTER_N).
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { freePort, SERVICES, serviceDef, startService, Supervisor, type ServiceName } from '@alertbus/launcher';
import { alertBody } from './alert-body';
import { BackendCpu, cpuLine, processesCpuSeconds, processesSnapshot } from './cpu';
import { postJson } from './post';
import { benchRuntime, runtimeLabel } from './runtime';
import { rssMb } from './rss';

const root = resolve(__dirname, '..');
/** What the services run from (BENCH_RUNTIME), the compiled output built first when it is `dist`. */
const RUNTIME = benchRuntime(root);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 50); // requests per second
const LATENCY_HIGH_RATE = Number(process.env.BENCH_LATENCY_HIGH_RATE ?? 300); // the second run's; 0 skips it
const LATENCY_RATES = [LATENCY_RATE, LATENCY_HIGH_RATE].filter((r) => r > 0);
const latencyTarget = (rate: number) => (rate <= 50 ? 'target p50 ≤ 25 ms, p99 ≤ 100 ms' : rate <= 300 ? 'target p99 ≤ 250 ms' : 'no target');
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_S ?? 15);
/**
 * Seconds of load at the first rate before the measured runs (0: none): a stack that has just started answers its
 * first alerts while V8 and the broker's JIT still compile, and those are the slowest of all (bench/README.md,
 * "Sixteenth run — cold and warm"). The warm-up is measured too and printed as the cold start.
 */
const LATENCY_WARMUP_SECONDS = Number(process.env.BENCH_LATENCY_WARMUP_S ?? 30);
const IDLE_SECONDS = 10;
/** Events of the projection and rebuild run in `npm run bench` (`npm run bench:projection` alone: 200,000). */
const FULL_RUN_PROJECTION_EVENTS = 1_000_000;
/** `--only=intake` or `--only=latency` (npm run bench:latency): just that part. */
const ONLY = /^--only=(intake|latency)$/.exec(process.argv.find((a) => a.startsWith('--only=')) ?? '')?.[1] ?? null;

const supervisors: Supervisor[] = [];
const supervision = {
  output: (name: string, line: string, stream: 'stdout' | 'stderr') => (stream === 'stderr' ? process.stderr : process.stdout).write(`[${name}] ${line}\n`),
};

/** A service from the launcher's table on a free port, with the bench's log level; resolves with its URL once ready. */
async function startBenchService(name: ServiceName, env: NodeJS.ProcessEnv = {}): Promise<{ name: ServiceName; url: string; supervisor: Supervisor; stop: () => Promise<void> }> {
  const { supervisor, port } = await startService(serviceDef(name), {
    root,
    env: { ...process.env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', ...env },
    supervisor: supervision,
    runtime: RUNTIME,
  });
  supervisors.push(supervisor);
  return { name, url: `http://127.0.0.1:${port}`, supervisor, stop: () => supervisor.stop() };
}

/** The baseline fastify server (bench/bare-server.ts), ready once it answers at all. */
async function startBareServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const supervisor = new Supervisor(supervision);
  supervisors.push(supervisor);
  await supervisor.start([
    {
      name: 'bare-fastify',
      command: process.execPath,
      args: ['--import', 'tsx', join(root, 'bench/bare-server.ts')],
      env: { ...process.env, PORT: String(port) },
      cwd: root,
      ready: () =>
        fetch(`${url}/webhooks/alertmanager`).then(
          (res) => res.status < 500,
          () => false,
        ),
    },
  ]);
  return { url, stop: () => supervisor.stop() };
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** Requests answered 2xx. */
  ok: number;
}

/** The same autocannon load on every target: one new alert per request, bodies in the target's own format. */
async function load(url: string, body: (i: number) => string = alertBody): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: body(i++ % 5000) }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    ok: result['2xx'],
  };
}

/** CPU seconds of a service's processes so far (the kernel's count: a process waiting for a core is not charged). */
const serviceCpu = (s: { supervisor: Supervisor }): number => processesCpuSeconds(s.supervisor.pids());

/** CPU milliseconds per 1,000 accepted alerts. */
const cpuPerThousand = (seconds: number, r: LoadResult): string => (r.ok > 0 ? `${((seconds * 1e6) / r.ok).toFixed(0)} ms CPU per 1000 alerts` : 'no alert accepted');

/** The same alert as alertBody, as Prometheus posts it to Alertmanager's API. */
function alertmanagerBody(i: number): string {
  return JSON.stringify([
    {
      labels: { alertname: 'Bench', severity: 'warning', instance: `host-${i}` },
      annotations: { summary: `bench alert ${i}` },
      startsAt: '2026-11-22T08:00:00Z',
      generatorURL: 'http://prom.example/graph',
    },
  ]);
}

/** `alertmanager` on PATH, else the copy `npm run bench:fetch-alertmanager` unpacks; null when neither. */
function findAlertmanager(): string | null {
  for (const name of ['alertmanager', 'prometheus-alertmanager']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
    } catch {
      // not on PATH
    }
  }
  const cached = join(root, 'bench/.cache/alertmanager/usr/bin/prometheus-alertmanager');
  return existsSync(cached) ? cached : null;
}

/**
 * Debian's build looks for its default templates in a fixed directory, /usr/share/prometheus/alertmanager
 * (neither the config's `templates:` nor a flag moves it), which only an installed package provides. For the
 * unpacked copy, a copy of the binary whose fixed directory is the working directory (a path of the same
 * length, ".////…", byte for byte in place of the other), next to copies of the templates.
 */
function relocatedAlertmanager(binary: string, dir: string): string {
  const fixed = '/usr/share/prometheus/alertmanager';
  if (existsSync(join(fixed, 'default.tmpl'))) return binary;
  const templates = join(dirname(dirname(binary)), 'share/prometheus/alertmanager');
  if (!existsSync(join(templates, 'default.tmpl'))) return binary;
  const image = readFileSync(binary);
  const from = Buffer.from(fixed, 'latin1');
  const to = Buffer.from('.' + '/'.repeat(fixed.length - 1), 'latin1');
  let replaced = 0;
  for (let at = image.indexOf(from); at >= 0; at = image.indexOf(from, at + from.length)) {
    // The template directory alone; the UI paths (".../ui/", ".../no-ui") are strings of their own.
    if (image[at + from.length] === 0x2f) continue;
    to.copy(image, at);
    replaced += 1;
  }
  if (replaced === 0) return binary;
  for (const f of readdirSync(templates)) if (f.endsWith('.tmpl')) copyFileSync(join(templates, f), join(dir, f));
  const copy = join(dir, 'alertmanager');
  writeFileSync(copy, image, { mode: 0o755 });
  return copy;
}

/**
 * Alertmanager in memory: its state in a temporary directory, no clustering, on a free port, `group_wait: 0`
 * and one group per alert (each alert is notified at once); a webhook receiver when `webhookUrl` is given,
 * else a null one.
 */
async function startAlertmanager(binary: string, webhookUrl?: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'alertbus-bench-am-'));
  const receiver = webhookUrl ? `  - name: 'bench'\n    webhook_configs:\n      - url: '${webhookUrl}'\n        send_resolved: false\n` : "  - name: 'bench'\n";
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:\n  receiver: 'bench'\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1m\n  repeat_interval: 4h\nreceivers:\n${receiver}`,
  );
  const command = relocatedAlertmanager(binary, dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const supervisor = new Supervisor(supervision);
  supervisors.push(supervisor);
  try {
    await supervisor.start([
      {
        name: 'alertmanager',
        command,
        args: [
          `--config.file=${join(dir, 'alertmanager.yml')}`,
          `--storage.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
          '--log.level=warn',
        ],
        env: process.env,
        cwd: dir,
        ready: () =>
          fetch(`${url}/-/ready`).then(
            (res) => res.ok,
            () => false,
          ),
      },
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    stop: async () => {
      await supervisor.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A local webhook receiver for Alertmanager: answers 200 at once and hands over the alerts of each notification. */
async function startWebhookSink(onAlerts: (alerts: Array<{ labels?: Record<string, string> }>) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        onAlerts((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: [] }).alerts ?? []);
      } catch {
        // not a notification
      }
      res.writeHead(200).end();
    });
  });
  // Alertmanager keeps its connections open; closing idle ones sooner than it does makes it retry (reset by peer).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, close: () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }) };
}

/** The built-in defaults (everything to #alerts and the pager) minus their storm control. */
function rulesWithoutStormControl(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'alertbus-bench-rules-')), 'rules.yaml');
  writeFileSync(file, 'defaults:\n  slack: { channel: "#alerts" }\n  pager: { enabled: true }\nrules: []\nstorm_control: { enabled: false }\n');
  return file;
}

interface SteadyRun {
  total: number;
  /** Bench clock (performance.now) per alert: sent, answered, and seen at the receiving end. */
  sent: Map<number, number>;
  answered: Map<number, number>;
  received: Map<number, number>;
}

/**
 * `rate` new alerts a second for `seconds` (numbered from `base`), each sent on time whatever the answers;
 * waits up to 60 s for `received` (filled by the receiving end) to hold every one.
 */
async function steadyLoad(
  post: (i: number) => Promise<unknown>,
  received: Map<number, number>,
  rate: number,
  base: number,
  seconds = LATENCY_SECONDS,
): Promise<SteadyRun> {
  const sent = new Map<number, number>();
  const answered = new Map<number, number>();
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const i = base + k;
    sent.set(i, performance.now());
    inflight.push(
      post(i).then(
        () => {
          answered.set(i, performance.now());
        },
        () => undefined,
      ),
    );
  }
  await Promise.all(inflight);
  const deadline = Date.now() + 60_000;
  const arrived = () => [...sent.keys()].filter((i) => received.has(i)).length;
  while (arrived() < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return { total, sent, answered, received };
}

/** Percentiles over every alert sent: one never delivered within the wait counts as slower than any delivered. */
function latencyLine(run: SteadyRun): string {
  const lat = [...run.sent.entries()]
    .map(([i, t]) => (run.received.has(i) ? run.received.get(i)! - t : Number.POSITIVE_INFINITY))
    .sort((a, b) => a - b);
  const ms = (v: number | undefined) => (v === undefined ? '-' : Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'not delivered');
  const delivered = [...run.sent.keys()].filter((i) => run.received.has(i)).length;
  return `delivered ${delivered}/${run.total}  p50 ${ms(percentile(lat, 50))}  p99 ${ms(percentile(lat, 99))}  max ${ms(lat.at(-1))}`;
}

/** With BENCH_TRACE_FILE: one line per alert (epoch ms), to line up with the services' timestamps. */
function writeTrace(run: SteadyRun): void {
  const file = process.env.BENCH_TRACE_FILE;
  if (!file) return;
  const wallOrigin = Date.now() - performance.now(); // as in hopLines: the wall clock now, not at the process's start
  const epoch = (t: number | undefined) => (t === undefined ? null : wallOrigin + t);
  const lines = [...run.sent.entries()].map(([i, t]) =>
    JSON.stringify({ hop: 'bench', host: String(i), tSent: epoch(t), tAnswered: epoch(run.answered.get(i)), tSlack: epoch(run.received.get(i)) }),
  );
  appendFileSync(file, lines.join('\n') + '\n');
}

/**
 * Where the latency goes: each alert's time stamps along the pipeline, read back from the topics (record
 * timestamps are the events' recordedAt): ingest's record, the router's Slack command (decided, before its
 * transaction commits), the stand-in's receipt of the call, the sink's delivery event (after its ledger row).
 * Each hop's p50 / p99 over the alerts seen at both of its ends.
 */
async function hopLines(prefix: string, run: SteadyRun): Promise<string[]> {
  const { createKafka, readRanges, wholeTopicRanges } = await import('@alertbus/kafka');
  const kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-hops' });
  const topics = { ingest: `${prefix}alerts.received.v1`, command: `${prefix}commands.slack.v1`, delivered: `${prefix}deliveries.v1` };
  const at = { ingest: new Map<number, number>(), command: new Map<number, number>(), delivered: new Map<number, number>() };
  const commandOf = new Map<string, number>();
  // Today's wall clock against the bench clock, not the process's start: a wall clock stepped or slewed since (NTP) would
  // otherwise shift every hop that ends at a record's time stamp by that much, and the hops after it back by as much.
  const wallOrigin = Date.now() - performance.now();
  const epochToBench = (ms: number) => ms - wallOrigin;
  const ranges = await wholeTopicRanges(kafka, Object.values(topics));
  // The command topic keeps the broker's append time (set for this run): when the router wrote the command.
  // Commands before deliveries: a delivery names its command, not the alert.
  for (const only of [[topics.ingest, topics.command], [topics.delivered]]) {
    await readRanges({
      kafka,
      ranges: ranges.filter((r) => only.includes(r.topic)),
      onBatch: async (batch) => {
        for (const r of batch.records) {
          const text = r.value?.toString('utf8') ?? '';
          const ts = epochToBench(Number(r.timestamp));
          if (r.topic === topics.ingest) {
            const i = /host-(\d+)/.exec(text)?.[1];
            if (i && !at.ingest.has(Number(i))) at.ingest.set(Number(i), ts);
          } else if (r.topic === topics.command) {
            const i = /bench alert (\d+)/.exec(text)?.[1];
            const ev = JSON.parse(text) as { id: string; type: string };
            if (i && ev.type === 'PostSlackMessage' && !at.command.has(Number(i))) {
              at.command.set(Number(i), ts);
              commandOf.set(ev.id, Number(i));
            }
          } else {
            const ev = JSON.parse(text) as { data?: { commandId?: string } };
            const i = commandOf.get(ev.data?.commandId ?? '');
            if (i !== undefined && !at.delivered.has(i)) at.delivered.set(i, ts);
          }
        }
      },
    });
  }
  const hop = (name: string, from: Map<number, number>, to: Map<number, number>) => {
    const d = [...from.entries()].filter(([i]) => run.sent.has(i) && to.has(i)).map(([i, t]) => to.get(i)! - t).sort((a, b) => a - b);
    return `${name.padEnd(30)}: p50 ${percentile(d, 50).toFixed(1)} ms  p99 ${percentile(d, 99).toFixed(1)} ms  (${d.length} alerts)`;
  };
  return [
    hop('  POST → ingest record', run.sent, at.ingest),
    hop('  ingest record → command written', at.ingest, at.command),
    hop('  command written → Slack call', at.command, run.received),
    hop('  Slack call → delivery event', run.received, at.delivered),
  ];
}

async function withBenchAdmin<T>(fn: (admin: import('kafkajs').Admin) => Promise<T>): Promise<T> {
  const { createKafka } = await import('@alertbus/kafka');
  const admin = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-admin' }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

type Started = Awaited<ReturnType<typeof startBenchService>>;

/** Every service of the launcher's table, as `npm start` starts them, with this environment. */
async function startStack(env: NodeJS.ProcessEnv): Promise<Map<ServiceName, Started>> {
  const started = await Promise.all(SERVICES.map((def) => startBenchService(def.name as ServiceName, env)));
  return new Map(started.map((s) => [s.name, s]));
}

/** VmRSS of each service's process, now. */
function rssLine(stack: Map<ServiceName, Started>): string {
  return [...stack.values()]
    .map((s) => {
      const mb = s.supervisor.pids().map(rssMb).reduce<number>((sum, v) => sum + (v ?? 0), 0);
      return `${s.name} ${mb.toFixed(0)} MB`;
    })
    .join(' · ');
}

/** The bench's own broker (none when KAFKA_BROKERS points at one: its CPU is then not counted). */
let brokerPid: number | undefined;

/**
 * CPU seconds used so far by each service of a stack (all its processes), by the bench's broker, and by the Postgres
 * backends of the bench's database (`backends`, sampled now; null when Postgres cannot be counted).
 */
/** Every service's CPU seconds, the bench's broker's and the Postgres backends' of the bench's database, now. */
const cpuSnapshot = (stack: Map<string, { supervisor: Supervisor }>, backends: BackendCpu | null) =>
  processesSnapshot(
    [...stack].map(([name, svc]) => [name, svc.supervisor.pids()] as const),
    brokerPid,
    backends,
  );

const ROUTER_STAGES = ['turn_wait', 'catch_up', 'decide', 'commit_wait', 'transaction'] as const;

/** The router's alertbus_router_batch_stage_seconds sums and counts, by stage, now. */
async function routerStages(url: string): Promise<Map<string, { sum: number; count: number }>> {
  const text = await (await fetch(`${url}/metrics`)).text().catch(() => '');
  const out = new Map<string, { sum: number; count: number }>();
  for (const m of text.matchAll(/^alertbus_router_batch_stage_seconds_(sum|count)\{[^}]*stage="(\w+)"[^}]*\} (\S+)$/gm)) {
    const entry = out.get(m[2]!) ?? { sum: 0, count: 0 };
    entry[m[1] as 'sum' | 'count'] = Number(m[3]);
    out.set(m[2]!, entry);
  }
  return out;
}

/** Mean time per committed batch in each router stage between two snapshots. */
function stagesLine(before: Map<string, { sum: number; count: number }>, after: Map<string, { sum: number; count: number }>): string {
  const mean = (stage: string) => {
    const a = after.get(stage);
    const b = before.get(stage) ?? { sum: 0, count: 0 };
    const n = (a?.count ?? 0) - b.count;
    return { n, ms: n > 0 ? ((a!.sum - b.sum) * 1000) / n : NaN };
  };
  const parts = ROUTER_STAGES.map((stage) => `${stage.replace('_', ' ')} ${mean(stage).ms.toFixed(1)} ms`);
  return `${parts.join(' · ')}  (${mean('transaction').n} batches)`;
}

/** alertbus_ingest_produce_calls_total from a /metrics text. */
const produceCallsOf = (metrics: string) => /alertbus_ingest_produce_calls_total\S* (\d+)/.exec(metrics)?.[1];

const fmt = (r: LoadResult) => `p50 ${r.p50} ms  p99 ${r.p99} ms  non-2xx ${r.non2xx}  errors ${r.errors}`;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const tag = `bench${Date.now().toString(36)}.`;
  process.env.KAFKA_TOPIC_PREFIX = tag;
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertbus');
  // BENCH_DATABASE: runs side by side on one server must not share a database (its backends' CPU is a figure).
  dbUrl.pathname = `/${process.env.BENCH_DATABASE ?? 'alertbus_bench'}`;
  process.env.DATABASE_URL = dbUrl.toString();

  // Imported after the prefix is set: topic names are fixed when the schemas module loads.
  const { createKafka, ensureTopics, startLocalBroker } = await import('@alertbus/kafka');
  const { startSlackStandIn } = await import('@alertbus/stand-ins');

  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
    brokerPid = broker.pid;
  }
  await ensureTopics(createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench' }));

  console.log(`# alertbus bench — ${new Date().toISOString()}, ${DURATION_S}s per run, ${CONNECTIONS} connections, ${runtimeLabel(RUNTIME)}`);

  const { startOpsgenieStandIn } = await import('@alertbus/stand-ins');
  const opsgenie = await startOpsgenieStandIn();

  const stackEnv = (slackUrl: string, prefix: string) => ({
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: slackUrl,
    OPSGENIE_API_URL: opsgenie.url,
    OPSGENIE_API_KEY: opsgenie.apiKey,
    INGEST_HOST: '127.0.0.1',
    HISTORY_HOST: '127.0.0.1',
    KAFKA_TOPIC_PREFIX: prefix,
  });
  const amBinary = findAlertmanager();
  const amMissing = 'no `alertmanager` on PATH and none in bench/.cache (`npm run bench:fetch-alertmanager`)';

  // 1. intake, side by side
  if (ONLY !== 'latency') {
    const bare = await startBareServer();
    const bareResult = await load(`${bare.url}/webhooks/alertmanager`);
    await bare.stop();

    let amResult: LoadResult | null = null;
    let amProblem = amMissing;
    if (amBinary) {
      try {
        const am = await startAlertmanager(amBinary);
        amResult = await load(`${am.url}/api/v2/alerts`, alertmanagerBody);
        await am.stop();
      } catch (err) {
        const tail = (err as { logTail?: string[] }).logTail?.at(-1) ?? (err as Error).message;
        amProblem = `${amBinary} did not start: ${tail.replace(/^.*err="([^"]*)".*$/, '$1')}`;
      }
    }

    // Ingest by itself against Kafka: what its own request path costs, with nothing else busy on the machine.
    const alone = await startBenchService('ingest', { INGEST_HOST: '127.0.0.1', KAFKA_TOPIC_PREFIX: `${tag}intake-alone.` });
    const aloneCpu0 = serviceCpu(alone);
    const aloneResult = await load(`${alone.url}/webhooks/alertmanager`);
    const aloneCpu = serviceCpu(alone) - aloneCpu0;
    const aloneCalls = produceCallsOf(await (await fetch(`${alone.url}/metrics`)).text());
    await alone.stop();

    const throughputSlack = await startSlackStandIn({ tokens: ['xoxb-bench'], channels: [{ id: 'C0ALERTS', name: 'alerts' }] } as never);
    const stack = await startStack(stackEnv(throughputSlack.url, `${tag}intake.`));
    const ingestUrl = stack.get('ingest')!.url;
    const stackCpu0 = serviceCpu(stack.get('ingest')!);
    const ingestResult = await load(`${ingestUrl}/webhooks/alertmanager`);
    const stackCpu = serviceCpu(stack.get('ingest')!) - stackCpu0;
    const metrics = await (await fetch(`${ingestUrl}/metrics`)).text();
    const intakeRss = rssLine(stack);
    await Promise.all([...stack.values()].map((s) => s.stop()));
    await throughputSlack.close();

    const produceCalls = produceCallsOf(metrics);
    console.log('\n## intake, same run, same load (1 new alert per request)');
    console.log(`bare fastify handler          : ${bareResult.rps.toFixed(0)} req/s  ${fmt(bareResult)}`);
    console.log(
      amResult
        ? `Alertmanager (in memory)      : ${amResult.rps.toFixed(0)} alerts/s  ${fmt(amResult)}  (${amBinary})`
        : `Alertmanager (in memory)      : not measured: ${amProblem}`,
    );
    console.log(`ingest alone, acks=all        : ${aloneResult.rps.toFixed(0)} alerts/s  ${fmt(aloneResult)}${aloneCalls ? `  (${aloneCalls} produce calls)` : ''}`);
    console.log(`ingest, whole stack, acks=all : ${ingestResult.rps.toFixed(0)} alerts/s  ${fmt(ingestResult)}${produceCalls ? `  (${produceCalls} produce calls)` : ''}`);
    console.log(`ingest's CPU, alone           : ${cpuPerThousand(aloneCpu, aloneResult)}`);
    console.log(`ingest's CPU, whole stack     : ${cpuPerThousand(stackCpu, ingestResult)}`);
    console.log(`ratio ingest alone / bare     : ${(aloneResult.rps / bareResult.rps).toFixed(2)} (target ≥ 0.50)`);
    if (amResult) console.log(`ratio alertbus / Alertmanager : ${(ingestResult.rps / amResult.rps).toFixed(2)} (ingest, whole stack / Alertmanager; target ≥ 0.50)`);
    console.log(`RSS after the intake run      : ${intakeRss}  (target ≤ 200 MB each; router ≤ 400 MB)`);
  }

  if (ONLY !== 'intake') {
    // 2. latency webhook → Slack call at a steady rate
    const received = new Map<number, number>();
    const slack = await startSlackStandIn({
      tokens: ['xoxb-bench'],
      channels: [{ id: 'C0ALERTS', name: 'alerts' }],
      onMessage: (m: { text: string; thread_ts?: string }) => {
        const i = /bench alert (\d+)/.exec(m.text)?.[1];
        if (i !== undefined && !m.thread_ts && !received.has(Number(i))) received.set(Number(i), performance.now());
      },
    } as never);
    // Fresh topics for this part: the throughput run above left thousands of inputs the router would work through first.
    // Storm control off here (the built-in defaults without it): each new incident is its own root post, the call
    // this figure times; at 50 new incidents a second the default would fold all but the first into one summary.
    const latencyStack = await startStack({ ...stackEnv(slack.url, `${tag}latency.`), ROUTING_RULES: rulesWithoutStormControl() });
    const latencyIngest = latencyStack.get('ingest')!;
    // The router stamps its commands with their input's time (decisions replay the same); for the hop figures below
    // the Slack command topic of this run keeps the broker's append time instead: when the router wrote the command.
    await withBenchAdmin((admin) =>
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 2 /* TOPIC */, name: `${tag}latency.commands.slack.v1`, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }],
      }),
    );
    // One run per rate on the same stack, one after the other (each alert a new incident, numbered apart per run).
    const runs: Array<{ rate: number; run: SteadyRun; stages: string; cpu: string; bench: string }> = [];
    const routerUrl = latencyStack.get('router')!.url;
    // The Postgres backends' CPU, from a connection of the bench's own (a server elsewhere is not counted).
    const { Client } = await import('pg');
    const pgCpuDb = new Client({ connectionString: process.env.DATABASE_URL });
    const backends = await pgCpuDb.connect().then(
      () => new BackendCpu(pgCpuDb),
      () => null,
    );
    const snapshot = () => cpuSnapshot(latencyStack, backends);
    // What the stack costs doing nothing: fetches that come back empty, heartbeats, timers.
    const idleBefore = await snapshot();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle = cpuLine(idleBefore, await snapshot(), IDLE_SECONDS, 'second');
    const post = (i: number) => postJson(`${latencyIngest.url}/webhooks/alertmanager`, alertBody(i));
    // The cold start: the first rate for LATENCY_WARMUP_SECONDS, its alerts numbered apart; the runs below meet a warm stack.
    let cold: { run: SteadyRun; cpu: string } | null = null;
    if (LATENCY_WARMUP_SECONDS > 0 && LATENCY_RATES.length > 0) {
      const cpuBefore = await snapshot();
      const run = await steadyLoad(post, received, LATENCY_RATES[0], 9_000_000, LATENCY_WARMUP_SECONDS);
      cold = { run, cpu: cpuLine(cpuBefore, await snapshot(), run.total, 'alert') };
    }
    for (const [n, rate] of LATENCY_RATES.entries()) {
      const before = await routerStages(routerUrl);
      const cpuBefore = await snapshot();
      const benchBefore = process.cpuUsage();
      const run = await steadyLoad(post, received, rate, (n + 1) * 1_000_000);
      const benchUsed = process.cpuUsage(benchBefore);
      const cpu = cpuLine(cpuBefore, await snapshot(), run.total, 'alert');
      const bench = `${((benchUsed.user + benchUsed.system) / 1000 / run.total).toFixed(2)} ms per alert`;
      runs.push({ rate, run, stages: stagesLine(before, await routerStages(routerUrl)), cpu, bench });
    }
    await pgCpuDb.end().catch(() => undefined);
    if (received.size === 0) {
      const sample = slack.state.messages.slice(0, 3).map((m) => m.text);
      console.log(`no root post matched; stand-in holds ${slack.state.messages.length} messages, e.g. ${JSON.stringify(sample)}`);
    }
    console.log(`\n## webhook → Slack chat.postMessage latency (${LATENCY_SECONDS} s at each rate, whole stack, each alert a new incident)`);
    console.log(`the stack idle, CPU over ${IDLE_SECONDS} s : ${idle}`);
    if (cold) {
      console.log(`alertbus at ${`${LATENCY_RATES[0]}/s`.padEnd(6)}, cold start: ${latencyLine(cold.run)}  (the first ${LATENCY_WARMUP_SECONDS} s of load after the stack started; the runs below follow it)`);
      console.log(`  CPU, cold start             : ${cold.cpu}`);
    }
    for (const { rate, run, stages, cpu, bench } of runs) {
      console.log(`alertbus at ${`${rate}/s`.padEnd(6)}             : ${latencyLine(run)}  (${latencyTarget(rate)})`);
      console.log('  where the time goes (record timestamps):');
      for (const line of await hopLines(`${tag}latency.`, run)) console.log(line);
      console.log(`  the router's batches, mean : ${stages}`);
      console.log(`  CPU, whole run (to the last delivery or the wait's end): ${cpu}`);
      // On the same two cores, but not the product's: a real Slack and Opsgenie answer from elsewhere.
      console.log(`  the bench process (the load and both stand-ins, not counted above): ${bench}`);
      writeTrace(run);
    }
    if (process.env.BENCH_DUMP_METRICS) {
      for (const [name, svc] of latencyStack) {
        const text = await (await fetch(`${svc.url}/metrics`)).text().catch(() => '');
        appendFileSync(process.env.BENCH_DUMP_METRICS, `# ==== ${name}\n${text}\n`);
      }
    }
    console.log(`RSS after the latency runs    : ${rssLine(latencyStack)}`);
    await Promise.all([...latencyStack.values()].map((s) => s.stop()));
    await slack.close();

    // Alertmanager's own webhook delivery under the same steady load, beside it.
    if (amBinary) {
      const amReceived = new Map<number, number>();
      const sink = await startWebhookSink((alerts) => {
        for (const a of alerts) {
          const i = /^host-(\d+)$/.exec(a.labels?.instance ?? '')?.[1];
          if (i !== undefined && !amReceived.has(Number(i))) amReceived.set(Number(i), performance.now());
        }
      });
      try {
        const am = await startAlertmanager(amBinary, sink.url);
        for (const [n, rate] of LATENCY_RATES.entries()) {
          const post = (i: number) => postJson(`${am.url}/api/v2/alerts`, alertmanagerBody(i));
          const amRun = await steadyLoad(post, amReceived, rate, (n + 1) * 1_000_000);
          console.log(`Alertmanager at ${`${rate}/s`.padEnd(6)}, webhook: ${latencyLine(amRun)}  (group_wait 0, one group per alert)`);
        }
        await am.stop();
      } catch (err) {
        console.log(`Alertmanager, webhook         : not measured: ${(err as Error).message}`);
      }
      await sink.close();
    } else {
      console.log(`Alertmanager, webhook         : not measured: ${amMissing}`);
    }
  }

  await Promise.all(supervisors.map((sup) => sup.stop()));
  await opsgenie.close();
  if (ONLY) {
    if (stopBroker) await stopBroker();
    return;
  }

  // 7. the storm, in a process of its own (its topics, database and stand-ins are its own)
  await runChild('bench/storm.ts', []);

  // 4. projection and rebuild, in a process of its own (its topics and database are its own). A million events, so that
  // the rebuild target's figure (1M ≤ 60 s) is measured, not extrapolated; BENCH_PROJECTION_EVENTS sets another size.
  await runChild('bench/projection.ts', [], { BENCH_PROJECTION_EVENTS: process.env.BENCH_PROJECTION_EVENTS ?? String(FULL_RUN_PROJECTION_EVENTS) });

  // 8. router decisions per second, pure and through Kafka on a pre-filled topic (its own topics and group)
  await runChild('bench/router-decisions.ts', []);

  // Imported here, like the other workspace modules: the schemas module fixes topic names when it loads.
  const { regexBench } = await import('./regex');
  console.log('\n## routing decisions and regexes (pure, no Kafka)');
  for (const line of regexBench()) console.log(line);

  if (stopBroker) await stopBroker();

  // 6. router memory, in a process of its own (its heap and RSS are the figures)
  await runChild('bench/router-memory.ts', ['--expose-gc', '--max-old-space-size=8192']);
}

function runChild(script: string, nodeArgs: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(root, script)], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited with ${code}`))));
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    void Promise.all(supervisors.map((sup) => sup.stop({ signal: 'SIGKILL' }))).finally(() => process.exit(1));
  },
);
