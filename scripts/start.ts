/**
 * `npm start`: brings up everything alertbus needs on one machine, in the foreground — a local Kafka broker
 * when KAFKA_BROKERS is not set, the database, the topics, and every service as its own process — prints
 * where each part listens, and stops all of it on Ctrl-C / SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { envDatabaseUrl, ensureDatabase } from '@alertbus/common';
import { createKafka, ensureTopics, startLocalBroker, type LocalBroker } from '@alertbus/kafka';

const root = resolve(__dirname, '..');

interface ServiceSpec {
  name: string;
  entry: string;
  portVar: string;
  defaultPort: number;
  env?: Record<string, string>;
}

const SERVICES: ServiceSpec[] = [
  { name: 'history', entry: 'services/history/src/main.ts', portVar: 'HISTORY_PORT', defaultPort: 8081 },
  { name: 'router', entry: 'services/router/src/main.ts', portVar: 'ROUTER_PORT', defaultPort: 8082 },
  { name: 'slack-sink', entry: 'services/slack-sink/src/main.ts', portVar: 'SLACK_SINK_PORT', defaultPort: 8083 },
  { name: 'opsgenie-sink', entry: 'services/opsgenie-sink/src/main.ts', portVar: 'OPSGENIE_SINK_PORT', defaultPort: 8084 },
  { name: 'ingest', entry: 'services/ingest/src/main.ts', portVar: 'INGEST_PORT', defaultPort: 8080 },
];

const STAND_INS: ServiceSpec[] = [
  { name: 'slack-stand-in', entry: 'packages/stand-ins/src/slack/main.ts', portVar: 'SLACK_STAND_IN_PORT', defaultPort: 8090 },
  { name: 'opsgenie-stand-in', entry: 'packages/stand-ins/src/opsgenie/main.ts', portVar: 'OPSGENIE_STAND_IN_PORT', defaultPort: 8091 },
];

const children: Array<{ name: string; proc: ChildProcess }> = [];
let broker: LocalBroker | undefined;
let stopping = false;

function say(msg: string): void {
  process.stdout.write(`[alertbus] ${msg}\n`);
}

function spawnService(spec: ServiceSpec, env: NodeJS.ProcessEnv): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, spec.entry)], {
    cwd: root,
    env: { ...env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `[${spec.name}] `;
  const pipe = (stream: NodeJS.ReadableStream | null, out: NodeJS.WriteStream) => {
    let buf = '';
    stream?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        out.write(prefix + buf.slice(0, i + 1));
        buf = buf.slice(i + 1);
      }
    });
  };
  pipe(proc.stdout, process.stdout);
  pipe(proc.stderr, process.stderr);
  proc.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${spec.name} exited (${signal ?? code}); stopping everything`);
      void shutdown(1);
    }
  });
  children.push({ name: spec.name, proc });
  return proc;
}

async function waitReady(name: string, url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} did not become ready at ${url} within ${timeoutMs / 1000}s`);
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  const exits = children
    .slice()
    .reverse()
    .map(
      ({ proc }) =>
        new Promise<void>((res) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return res();
          const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
          proc.once('exit', () => {
            clearTimeout(t);
            res();
          });
          proc.kill('SIGTERM');
        }),
    );
  await Promise.all(exits);
  if (broker) await broker.stop().catch(() => undefined);
  say('stopped');
  process.exit(code);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'stand-ins': { type: 'boolean', default: false },
      sample: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm start [-- --stand-ins]\n\n' +
        '  --stand-ins   also start local Slack and Opsgenie stand-ins and point the sinks at them\n' +
        '                (otherwise, without SLACK_BOT_TOKEN / OPSGENIE_API_KEY, the sinks run dry)\n' +
        '  --sample      once everything is up, route examples/alertmanager-firing.json and show the incident\n',
    );
    return;
  }
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!env.KAFKA_BROKERS) {
    const dataDir = join(root, '.alertbus', 'kafka-data');
    mkdirSync(dataDir, { recursive: true });
    say('KAFKA_BROKERS not set: starting a local single-node Kafka broker (KRaft)…');
    broker = await startLocalBroker({ dataDir, log: (m) => say(`kafka: ${m}`) });
    env.KAFKA_BROKERS = broker.brokers.join(',');
  }
  say(`Kafka: ${env.KAFKA_BROKERS}`);

  const dbUrl = envDatabaseUrl(env);
  await ensureDatabase(dbUrl);
  env.DATABASE_URL = dbUrl;
  say(`Postgres: ${dbUrl.replace(/\/\/([^:@/]+):[^@]+@/, '//$1:***@')}`);

  const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'alertbus-start' });
  const created = await ensureTopics(kafka);
  say(created.length ? `created topics: ${created.join(', ')}` : 'topics present');

  if (values['stand-ins']) {
    for (const spec of STAND_INS) {
      const port = env[spec.portVar] ?? String(spec.defaultPort);
      spawnService(spec, { ...env, [spec.portVar]: port });
    }
    env.SLACK_API_URL = `http://127.0.0.1:${env.SLACK_STAND_IN_PORT ?? 8090}/api/`;
    env.SLACK_BOT_TOKEN = env.SLACK_BOT_TOKEN ?? 'xoxb-stand-in';
    env.OPSGENIE_API_URL = `http://127.0.0.1:${env.OPSGENIE_STAND_IN_PORT ?? 8091}`;
    env.OPSGENIE_API_KEY = env.OPSGENIE_API_KEY ?? 'stand-in-genie-key';
    await waitReady('slack-stand-in', `${env.SLACK_API_URL}auth.test`.replace('/api/auth.test', '/_stand-in/messages'));
    await waitReady('opsgenie-stand-in', `${env.OPSGENIE_API_URL}/_stand-in/alerts`);
    say(`Slack stand-in: ${env.SLACK_API_URL} · Opsgenie stand-in: ${env.OPSGENIE_API_URL}`);
  }

  for (const spec of SERVICES) {
    const port = env[spec.portVar] ?? String(spec.defaultPort);
    spawnService(spec, { ...env, [spec.portVar]: port });
  }
  for (const spec of SERVICES) {
    const port = env[spec.portVar] ?? String(spec.defaultPort);
    await waitReady(spec.name, `http://127.0.0.1:${port}/readyz`);
  }
  const p = (v: string, d: number) => env[v] ?? String(d);
  say('ready:');
  say(`  ingest   http://127.0.0.1:${p('INGEST_PORT', 8080)}  (POST /webhooks/alertmanager, /webhooks/grafana, /webhooks/generic)`);
  say(`  history  http://127.0.0.1:${p('HISTORY_PORT', 8081)}  (GET /api/incidents)`);
  say(`  router   http://127.0.0.1:${p('ROUTER_PORT', 8082)}/metrics`);
  say(`  slack-sink http://127.0.0.1:${p('SLACK_SINK_PORT', 8083)}/metrics  (${env.SLACK_BOT_TOKEN ? 'live' : 'dry-run: no SLACK_BOT_TOKEN'})`);
  say(`  opsgenie-sink http://127.0.0.1:${p('OPSGENIE_SINK_PORT', 8084)}/metrics  (${env.OPSGENIE_API_KEY ? 'live' : 'dry-run: no OPSGENIE_API_KEY'})`);
  if (values.sample) await routeSample(p('INGEST_PORT', 8080), p('HISTORY_PORT', 8081), Boolean(env.OPSGENIE_API_KEY));
  say('Ctrl-C stops everything.');
}

/** Posts the README's sample alert and waits until the incident, its thread and its page are recorded. */
async function routeSample(ingestPort: string, historyPort: string, livePager: boolean): Promise<void> {
  const body = readFileSync(join(root, 'examples', 'alertmanager-firing.json'), 'utf8');
  const res = await fetch(`http://127.0.0.1:${ingestPort}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const accepted = (await res.json()) as { aliases?: string[] };
  const alias = accepted.aliases?.[0];
  say(`sample alert posted: HTTP ${res.status}, alias ${alias}`);
  if (!res.ok || !alias) return;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !stopping) {
    const list = (await (
      await fetch(`http://127.0.0.1:${historyPort}/api/incidents?alias=${encodeURIComponent(alias)}&status=open`)
    ).json()) as { incidents?: Array<{ incident_id: string; slack_root_ts: string | null; pager_alert_id: string | null }> };
    const inc = list.incidents?.[0];
    if (inc && inc.slack_root_ts && (inc.pager_alert_id || !livePager)) {
      say(`sample incident ${inc.incident_id}: Slack root ts ${inc.slack_root_ts}, pager alert ${inc.pager_alert_id ?? '(dry run)'}`);
      say(`  timeline: http://127.0.0.1:${historyPort}/api/incidents/${inc.incident_id}  ·  page: http://127.0.0.1:${historyPort}/`);
      return;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  say('the sample incident did not show up within 30 s: see the services\' logs above');
}

main().catch((err) => {
  process.stderr.write(`[alertbus] start failed: ${(err as Error).message}\n`);
  void shutdown(1);
});
