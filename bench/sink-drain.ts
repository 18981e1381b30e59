/**
 * A sink alone draining a backlog, for its CPU per command (`npx tsx bench/sink-drain.ts`, KAFKA_BROKERS set; N
 * commands, default 2000; SINK=slack, the default, or opsgenie): N root posts (or N pager alerts) of distinct
 * incidents are written to a fresh command topic, the sink is started as a process of its own (as the launcher runs
 * it) against its stand-in (another process), and
 * from its first delivery event to the Nth it prints its CPU per command, its Postgres backends' CPU per command
 * and the commits per command in its database (its own, dropped at the end, like its topics).
 * With RATE (commands a second), the sink is started first and the commands are written at that rate instead, TICK_MS
 * (default 50) worth at a time as the router's transactions bring them: the figures then also hold the latency from
 * each command's write to its delivery event (p50, p99), the sink's hop alone at a steady load.
 * The sink runs with the Node options of its row in the launcher's table; SINK_NODE_ARGS (space-separated) replaces them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';

const N = Number(process.env.N ?? 2000);
const PAGER = process.env.SINK === 'opsgenie';
const PAGER_KEY = randomUUID();
const RATE = Number(process.env.RATE ?? 0);
const TICK_MS = Number(process.env.TICK_MS ?? 50);
const tag = `sinksdrain${randomBytes(3).toString('hex')}`;
process.env.KAFKA_TOPIC_PREFIX = `${tag}.`;
const dbUrl = new URL('postgres://postgres@127.0.0.1:5432/x');
dbUrl.pathname = `/${tag}`;

const children: ChildProcess[] = [];

function child(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  return proc;
}

/** Stops the children, drops the database and the topics of this run, whatever happened. */
async function cleanUp(): Promise<void> {
  for (const proc of children) proc.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${tag} WITH (FORCE)`);
  await admin.end();
  const { createKafka } = await import('@alertbus/kafka');
  const kadmin = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: `${tag}-cleanup` }).admin();
  await kadmin.connect();
  const topics = (await kadmin.listTopics()).filter((t) => t.startsWith(`${tag}.`));
  if (topics.length > 0) await kadmin.deleteTopics({ topics }).catch(() => undefined);
  await kadmin.disconnect();
}

async function main() {
  const { cpuSeconds, BackendCpu } = await import('./cpu');
  const { EventProducer, createKafka, ensureTopics } = await import('@alertbus/kafka');
  const { TOPICS, makeEnvelope, newId, deriveId } = await import('@alertbus/schemas');
  const { ensureDatabase } = await import('@alertbus/common');
  const brokers = process.env.KAFKA_BROKERS!.split(',');
  const kafka = createKafka({ brokers, clientId: tag });
  await ensureTopics(kafka);
  await ensureDatabase(dbUrl.toString());

  const standIn = PAGER
    ? child(['packages/stand-ins/src/opsgenie/main.ts'], { OPSGENIE_STAND_IN_PORT: '0', OPSGENIE_STAND_IN_KEYS: PAGER_KEY })
    : child(['packages/stand-ins/src/slack/main.ts'], { SLACK_STAND_IN_PORT: '0', SLACK_STAND_IN_TOKENS: 'xoxb-drain', SLACK_STAND_IN_CHANNELS: 'C0ALERTS:alerts' });
  const apiUrl = await new Promise<string>((resolve) => {
    let buf = '';
    standIn.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /(?:SLACK|OPSGENIE)_API_URL=(\S+)/.exec(buf);
      if (m) resolve(m[1]!);
    });
  });

  const producer = new EventProducer(kafka);
  await producer.connect();
  const rule = { path: 'default', rulesVersion: 'drain' };
  const events = [];
  for (let i = 0; i < N; i++) {
    const alias = `alertmanager:drain-${i}`;
    const id = newId();
    const at = new Date().toISOString();
    const incidentId = deriveId('incident', alias, 1);
    const data = PAGER
      ? { incidentId, rule, message: `drain alert ${i}`, priority: 'P2', tags: ['drain'], responders: [{ type: 'team', name: 'sre' }], details: { host: `host-${i}` }, source: 'alertmanager' }
      : { incidentId, rule, channel: '#alerts', purpose: 'root', text: `drain alert ${i}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*drain alert ${i}* firing` } }] };
    const type = PAGER ? 'CreatePagerAlert' : 'PostSlackMessage';
    events.push(makeEnvelope({ id, type, alias, occurredAt: at, recordedAt: at, source: 'router', causationId: id, correlationId: id, data } as never));
  }
  if (!RATE) for (let i = 0; i < events.length; i += 500) await producer.send(events.slice(i, i + 500) as never);

  let delivered = 0;
  /** With RATE: when each command was written, and how long until its delivery event (by the event's timestamp). */
  const writtenAt = new Map<string, number>();
  const latencies: number[] = [];
  const consumer = kafka.consumer({ groupId: `${tag}-count` });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPICS.deliveries], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({ eachMessage: async ({ message }) => {
      if (message.value?.includes(PAGER ? '"PagerAlertCreated"' : '"SlackMessagePosted"')) {
        delivered += 1;
        const commandId = (JSON.parse(message.value.toString()) as { data?: { commandId?: string } }).data?.commandId ?? '';
        const at = writtenAt.get(commandId);
        if (at !== undefined) latencies.push(Number(message.timestamp) - at);
      }
      if (delivered >= N) resolve();
    } });
  });

  const pg = new Client({ connectionString: dbUrl.toString() });
  await pg.connect();
  const commits = async () => Number((await pg.query('SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()')).rows[0].xact_commit);
  const backends = new BackendCpu(pg);
  // With the Node options the launcher starts the sink with (its row of the service table), or SINK_NODE_ARGS's.
  const { serviceDef } = await import('@alertbus/launcher');
  const nodeArgs = process.env.SINK_NODE_ARGS !== undefined ? process.env.SINK_NODE_ARGS.split(' ').filter(Boolean) : [...(serviceDef(PAGER ? 'opsgenie-sink' : 'slack-sink').nodeArgs ?? [])];
  const sink = PAGER
    ? child([...nodeArgs, 'services/opsgenie-sink/src/main.ts'], { DATABASE_URL: dbUrl.toString(), OPSGENIE_API_KEY: PAGER_KEY, OPSGENIE_API_URL: apiUrl, OPSGENIE_SINK_PORT: '0', LOG_LEVEL: 'warn' })
    : child([...nodeArgs, 'services/slack-sink/src/main.ts'], { DATABASE_URL: dbUrl.toString(), SLACK_BOT_TOKEN: 'xoxb-drain', SLACK_API_URL: apiUrl, SLACK_SINK_PORT: '0', LOG_LEVEL: 'warn' });
  sink.stderr!.on('data', (c: Buffer) => process.stderr.write(c));
  if (RATE) {
    // The sink ready and idle first (its health answers once it consumes), then the steady load.
    await new Promise((r) => setTimeout(r, 8000));
    const start = Date.now();
    const perTick = (RATE * TICK_MS) / 1000;
    void (async () => {
      for (let k = 0, sent = 0; sent < events.length; k++) {
        const due = start + k * TICK_MS;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const upTo = Math.min(events.length, Math.round((k + 1) * perTick));
        const chunk = events.slice(sent, upTo);
        sent = upTo;
        const t = Date.now();
        for (const e of chunk) writtenAt.set((e as { id: string }).id, t);
        await producer.send(chunk as never);
      }
    })();
  }
  // start-up is not the figure: wait until the first delivery, then count from there
  while (delivered === 0) await new Promise((r) => setTimeout(r, 20));
  const c0 = cpuSeconds(sink.pid!)!;
  const k0 = await commits();
  await backends.sample();
  const b0 = backends.total();
  const d0 = delivered;
  const t0 = performance.now();
  const timer = setInterval(() => void backends.sample(), 200);
  await done;
  clearInterval(timer);
  await backends.sample();
  const n = N - d0;
  const cpu = cpuSeconds(sink.pid!)! - c0;
  console.log(JSON.stringify({ commands: n, wallS: +((performance.now() - t0) / 1000).toFixed(2), sinkCpuMsPerCommand: +((cpu * 1000) / n).toFixed(3), pgCpuMsPerCommand: +(((backends.total() - b0) * 1000) / n).toFixed(3), commitsPerCommand: +(((await commits()) - k0) / n).toFixed(3), ...latencyFigures() }));
  await consumer.disconnect();
  await producer.disconnect();
  function latencyFigures() {
    if (!RATE) return {};
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
    return { rate: RATE, tickMs: TICK_MS, writtenToDeliveredP50Ms: pct(50), writtenToDeliveredP99Ms: pct(99) };
  }
  await pg.end();
}

main().then(
  () => cleanUp().then(() => process.exit(0)),
  (err) => {
    console.error(err);
    void cleanUp().finally(() => process.exit(1));
  },
);
