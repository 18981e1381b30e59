/**
 * `npm run bench`: figures, not pass/fail.
 *  1. Durable ingest throughput (alerts/s answered 202 only after acks=all) next to a bare fastify handler
 *     parsing the same body, same machine, same load generator, same run — and their ratio.
 *  2. Webhook → Slack call latency (p50, p99) at a steady request rate through ingest, router and slack-sink.
 *  3. Routing decisions and regexes (pure): an ordinary alert next to a backtracking bait (bench/regex.ts).
 *  4. Router memory with 1M distinct aliases (bench/router-memory.ts, in a process of its own; BENCH_ROUTER_ALIASES).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { freePort, serviceDef, startService, Supervisor, type ServiceName } from '@alertbus/launcher';

const root = resolve(__dirname, '..');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const LATENCY_RATE = Number(process.env.BENCH_LATENCY_RATE ?? 50); // requests per second
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_S ?? 15);

const supervisors: Supervisor[] = [];
const supervision = {
  output: (name: string, line: string, stream: 'stdout' | 'stderr') => (stream === 'stderr' ? process.stderr : process.stdout).write(`[${name}] ${line}\n`),
};

/** A service from the launcher's table on a free port, with the bench's log level; resolves with its URL once ready. */
async function startBenchService(name: ServiceName, env: NodeJS.ProcessEnv = {}): Promise<{ url: string; stop: () => Promise<void> }> {
  const { supervisor, port } = await startService(serviceDef(name), {
    root,
    env: { ...process.env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn', ...env },
    supervisor: supervision,
  });
  supervisors.push(supervisor);
  return { url: `http://127.0.0.1:${port}`, stop: () => supervisor.stop() };
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

function alertBody(i: number): string {
  return JSON.stringify({
    version: '4',
    status: 'firing',
    receiver: 'bench',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am.example',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'Bench', severity: 'warning', instance: `host-${i}` },
        annotations: { summary: `bench alert ${i}` },
        startsAt: '2026-11-22T08:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prom.example/graph',
        fingerprint: `bench${i.toString(16).padStart(11, '0')}`,
      },
    ],
  });
}

async function load(url: string): Promise<{ rps: number; p50: number; p99: number; non2xx: number; errors: number }> {
  let i = 0;
  const result = await autocannon({
    url: `${url}/webhooks/alertmanager`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION_S,
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (req) => ({ ...req, body: alertBody(i++ % 5000) }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const tag = `bench${Date.now().toString(36)}.`;
  process.env.KAFKA_TOPIC_PREFIX = tag;
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertbus');
  dbUrl.pathname = `/alertbus_bench`;
  process.env.DATABASE_URL = dbUrl.toString();

  // Imported after the prefix is set: topic names are fixed when the schemas module loads.
  const { createKafka, ensureTopics, startLocalBroker } = await import('@alertbus/kafka');
  const { startSlackStandIn } = await import('@alertbus/stand-ins');

  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
  }
  await ensureTopics(createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench' }));

  console.log(`# alertbus bench — ${new Date().toISOString()}, ${DURATION_S}s per run, ${CONNECTIONS} connections`);

  // 1. throughput
  const bare = await startBareServer();
  const bareResult = await load(bare.url);
  await bare.stop();

  const ingest = await startBenchService('ingest', { INGEST_HOST: '127.0.0.1' });
  const ingestResult = await load(ingest.url);
  const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
  await ingest.stop();

  const produceCalls = /alertbus_ingest_produce_calls_total\S* (\d+)/.exec(metrics)?.[1];
  console.log('\n## durable ingest throughput (1 alert per request)');
  console.log(`bare fastify handler : ${bareResult.rps.toFixed(0)} req/s  p50 ${bareResult.p50} ms  p99 ${bareResult.p99} ms`);
  console.log(
    `ingest, acks=all     : ${ingestResult.rps.toFixed(0)} alerts/s  p50 ${ingestResult.p50} ms  p99 ${ingestResult.p99} ms  non-2xx ${ingestResult.non2xx}  errors ${ingestResult.errors}`,
  );
  if (produceCalls) console.log(`produce calls        : ${produceCalls}`);
  console.log(`ratio ingest / bare  : ${(ingestResult.rps / bareResult.rps).toFixed(2)} (target ≥ 0.50)`);

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
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: slack.url,
    INGEST_HOST: '127.0.0.1',
    KAFKA_TOPIC_PREFIX: `${tag}latency.`,
  };
  const [, , latencyIngest] = await Promise.all(
    (['router', 'slack-sink', 'ingest'] as const).map((name) => startBenchService(name, env)),
  );

  const sent = new Map<number, number>();
  const total = LATENCY_RATE * LATENCY_SECONDS;
  const base = 1_000_000;
  const start = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let k = 0; k < total; k++) {
    const due = start + (k * 1000) / LATENCY_RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const i = base + k;
    sent.set(i, performance.now());
    inflight.push(
      fetch(`${latencyIngest!.url}/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: alertBody(i),
      }),
    );
  }
  await Promise.all(inflight);
  const deadline = Date.now() + 60_000;
  while (received.size < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (received.size === 0) {
    const sample = slack.state.messages.slice(0, 3).map((m) => m.text);
    console.log(`no root post matched; stand-in holds ${slack.state.messages.length} messages, e.g. ${JSON.stringify(sample)}`);
  }
  const lat = [...sent.entries()]
    .filter(([i]) => received.has(i))
    .map(([i, t]) => received.get(i)! - t)
    .sort((a, b) => a - b);
  console.log(`\n## webhook → Slack chat.postMessage latency (${LATENCY_RATE} alerts/s for ${LATENCY_SECONDS}s)`);
  console.log(`delivered ${lat.length}/${total}  p50 ${percentile(lat, 50).toFixed(1)} ms  p99 ${percentile(lat, 99).toFixed(1)} ms  max ${lat.at(-1)?.toFixed(1)} ms`);

  await Promise.all(supervisors.map((sup) => sup.stop()));
  await slack.close();

  // Imported here, like the other workspace modules: the schemas module fixes topic names when it loads.
  const { regexBench } = await import('./regex');
  console.log('\n## routing decisions and regexes (pure, no Kafka)');
  for (const line of regexBench()) console.log(line);

  if (stopBroker) await stopBroker();

  // 3. router memory, in a process of its own (its heap and RSS are the figures)
  await new Promise<void>((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', join(root, 'bench/router-memory.ts')], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench/router-memory.ts exited with ${code}`))));
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    void Promise.all(supervisors.map((sup) => sup.stop({ signal: 'SIGKILL' }))).finally(() => process.exit(1));
  },
);
