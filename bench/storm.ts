/**
 * `npm run bench:storm` (and a section of `npm run bench`): a storm of BENCH_STORM_ALERTS unique alerts (default
 * 20,000) in Alertmanager groups of 100, against the whole stack as `npm start` runs it with the built-in rules
 * (storm control on), the sinks posting to the stand-ins. Figures, not pass/fail:
 *  - how long ingest took to accept every group, and how many it refused;
 *  - the time from the last accepted group until every alert is an incident in the history (target ≤ 60 s);
 *  - the Slack posts (threads of their own + storm summaries, and the summaries' updates in place) and the time
 *    until Slack shows every incident, in a thread or a summary, before any resolve (a storm summary's last changes
 *    come with the router's tick once the storm is quiet: services/router/README.md, storm control);
 *  - the pages (pager alerts of their own + the storm's, and its notes);
 *  - RSS per service when the history has every incident;
 *  - then every alert resolves: the time until each storm summary shows its final state, and its updates meanwhile.
 */
import { resolve } from 'node:path';
import { Client } from 'pg';
import { SERVICES, serviceDef, startService, type ServiceName, type Supervisor } from '@alertbus/launcher';
import { rssMb } from './rss';
import { benchRuntime, runtimeLabel } from './runtime';
import { BackendCpu, cpuLine, processesSnapshot } from './cpu';

const root = resolve(__dirname, '..');
/** What the services run from (BENCH_RUNTIME), the compiled output built first when it is `dist`. */
const RUNTIME = benchRuntime(root);
const ALERTS = Number(process.env.BENCH_STORM_ALERTS ?? 20_000);
const GROUP = 100;
/** Groups in flight at once (Alertmanager sends a receiver's groups concurrently). */
const CONCURRENCY = Number(process.env.BENCH_STORM_CONCURRENCY ?? 8);
/** How long to wait for the history and the sinks after the last group was accepted. */
const WAIT_MS = Number(process.env.BENCH_STORM_WAIT_S ?? 300) * 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function group(g: number, runTag: string, status: 'firing' | 'resolved' = 'firing'): string {
  const alerts = Array.from({ length: GROUP }, (_, j) => {
    const i = g * GROUP + j;
    return {
      status,
      labels: { alertname: 'NodeDown', severity: 'warning', instance: `node-${i}`, cluster: 'bench' },
      annotations: { summary: `storm alert ${i}` },
      startsAt: '2026-11-30T08:00:00Z',
      endsAt: status === 'resolved' ? '2026-11-30T09:00:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prom.example/graph',
      fingerprint: `${runTag}${i.toString(16).padStart(8, '0')}`,
    };
  });
  return JSON.stringify({
    version: '4',
    status,
    receiver: 'bench',
    groupKey: `{}:{alertname="NodeDown"}/${g}`,
    groupLabels: { alertname: 'NodeDown' },
    commonLabels: { alertname: 'NodeDown', cluster: 'bench' },
    commonAnnotations: {},
    externalURL: 'http://am.example',
    alerts,
  });
}

async function incidents(db: Client): Promise<number> {
  try {
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents');
    return rows[0]!.n;
  } catch {
    return 0; // not migrated yet
  }
}

/** Polls `probe` until it is true or the deadline passes; the time it took, or null. */
async function until(probe: () => Promise<boolean> | boolean, from: number): Promise<number | null> {
  const deadline = from + WAIT_MS;
  while (Date.now() < deadline) {
    if (await probe()) return Date.now() - from;
    await sleep(250);
  }
  return (await probe()) ? Date.now() - from : null;
}

async function main(): Promise<void> {
  const tag = `benchstorm${Date.now().toString(36)}.`;
  process.env.KAFKA_TOPIC_PREFIX = tag;
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertbus');
  // BENCH_STORM_DB: a database of one's own when several runs share a Postgres server (dropped and created again).
  const dbName = process.env.BENCH_STORM_DB ?? 'alertbus_bench_storm';
  if (!/^[a-z0-9_]+$/.test(dbName)) throw new Error(`BENCH_STORM_DB must be lower-case letters, digits and _: ${dbName}`);
  dbUrl.pathname = `/${dbName}`;
  const databaseUrl = dbUrl.toString();
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const adminDb = new Client({ connectionString: admin.toString() });
  await adminDb.connect();
  await adminDb.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await adminDb.end();

  // Imported after the prefix is set: topic names are fixed when the schemas module loads.
  const { createKafka, ensureTopics, startLocalBroker } = await import('@alertbus/kafka');
  const { startOpsgenieStandIn, startSlackStandIn } = await import('@alertbus/stand-ins');

  let stopBroker: (() => Promise<void>) | undefined;
  let brokerPid: number | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
    brokerPid = broker.pid;
  }
  await ensureTopics(createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-storm' }));

  const slack = await startSlackStandIn({ tokens: ['xoxb-bench'], channels: [{ id: 'C0ALERTS', name: 'alerts' }] } as never);
  const opsgenie = await startOpsgenieStandIn();
  const supervisors: Array<{ name: ServiceName; supervisor: Supervisor; url: string }> = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    DATABASE_URL: databaseUrl,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: slack.url,
    SLACK_DEFAULT_CHANNEL: '#alerts',
    OPSGENIE_API_URL: opsgenie.url,
    OPSGENIE_API_KEY: opsgenie.apiKey,
    INGEST_HOST: '127.0.0.1',
    HISTORY_HOST: '127.0.0.1',
  };
  // The built-in rules: what a user gets without a rules file.
  delete env.ROUTING_RULES;
  const started = await Promise.all(
    SERVICES.map(async (def) => {
      const { supervisor, port } = await startService(serviceDef(def.name as ServiceName), {
        root,
        env,
        supervisor: { output: (name: string, line: string) => process.stderr.write(`[${name}] ${line}\n`) },
        runtime: RUNTIME,
      });
      return { name: def.name as ServiceName, supervisor, url: `http://127.0.0.1:${port}` };
    }),
  );
  supervisors.push(...started);
  const ingest = started.find((s) => s.name === 'ingest')!.url;
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();

  console.log(`\n## storm: ${ALERTS.toLocaleString('en-US')} unique alerts in groups of ${GROUP} (${CONCURRENCY} in flight), built-in rules, ${runtimeLabel(RUNTIME)}`);
  const runTag = Date.now().toString(16);
  let refused = 0;
  /** Sends every group with `status`, CONCURRENCY at a time. */
  async function sendAll(status: 'firing' | 'resolved'): Promise<void> {
    const bodies = Array.from({ length: Math.ceil(ALERTS / GROUP) }, (_, g) => group(g, runTag, status));
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          for (;;) {
            const res = await fetch(`${ingest}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
            await res.arrayBuffer();
            if (res.status === 202) break;
            // A 503 (Kafka slow to acknowledge) is sent again, as Alertmanager would.
            refused += 1;
            await sleep(200);
          }
        }
      }),
    );
  }
  // CPU from the first request to the last incident in the history: every service, the broker when it is the bench's,
  // and the storm database's Postgres backends.
  const backends = new BackendCpu(db);
  const cpuSnapshot = () =>
    processesSnapshot(
      supervisors.map((s) => [s.name, s.supervisor.pids()] as const),
      brokerPid,
      backends,
    );
  const cpuBefore = await cpuSnapshot();
  const sendStarted = Date.now();
  await sendAll('firing');
  const accepted = Date.now();
  console.log(`accepted                : ${ALERTS.toLocaleString('en-US')} alerts in ${seconds(accepted - sendStarted)} (${refused} answers other than 202, sent again)`);

  const roots = () => slack.state.messages.filter((m) => !m.thread_ts);
  const summaries = () => roots().filter((m) => m.text.startsWith('[STORM]'));
  const listed = () => roots().length - summaries().length + summaries().reduce((n, m) => n + Number(/: (\d+) incidents? gathered/.exec(m.text)?.[1] ?? 0), 0);
  // Both watched side by side: when the history has every incident, and when Slack shows every one.
  // RSS is taken when the history has them all (or its wait ends): the same moment whatever Slack does meanwhile.
  const rssLine = () => supervisors.map((s) => `${s.name} ${s.supervisor.pids().map(rssMb).reduce<number>((sum, v) => sum + (v ?? 0), 0).toFixed(0)} MB`).join(' · ');
  let rss = '';
  let cpu = '';
  // Which service is the storm's critical path: the router has decided every alert once its group's committed offsets on
  // alerts.received.v1 reach the topic's end (every alert was written there before ingest answered 202).
  const { GROUPS, TOPICS } = await import('@alertbus/schemas');
  const kafkaAdmin = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-storm-lag' }).admin();
  await kafkaAdmin.connect();
  const inputEnd = (await kafkaAdmin.fetchTopicOffsets(TOPICS.alertsReceived)).reduce((n, p) => n + Number(p.high), 0);
  const routerDone = until(async () => {
    const [offsets] = await kafkaAdmin.fetchOffsets({ groupId: GROUPS.router, topics: [TOPICS.alertsReceived] });
    return offsets!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) >= inputEnd;
  }, accepted);
  const [inHistory, slackSettled] = await Promise.all([
    until(async () => (await incidents(db)) >= ALERTS, accepted).then(async (t) => {
      rss = rssLine();
      cpu = cpuLine(cpuBefore, await cpuSnapshot(), ALERTS, 'incident');
      return t;
    }),
    until(() => listed() >= ALERTS, accepted),
  ]);
  console.log(
    inHistory === null
      ? `all in the history       : NOT within ${seconds(WAIT_MS)}: ${(await incidents(db)).toLocaleString('en-US')} of ${ALERTS.toLocaleString('en-US')} (target: all within 60 s)`
      : `all in the history       : ${seconds(inHistory)} after the last was accepted (target ≤ 60 s)`,
  );
  const routerDecided = await routerDone;
  await kafkaAdmin.disconnect();
  console.log(
    routerDecided === null
      ? `router decided every one: NOT within ${seconds(WAIT_MS)}`
      : `router decided every one: ${seconds(routerDecided)} after the last was accepted (its offsets committed; the history follows it)`,
  );
  if (inHistory !== null) {
    // The whole pipeline's rate for new incidents: from the first request sent to the last incident in the history.
    const rate = ALERTS / ((accepted - sendStarted + inHistory) / 1000);
    console.log(`new incidents, end to end: ${rate.toFixed(0)}/s (from the first request to the last incident in the history; target ≥ 2,000/s sustained)`);
    console.log(`CPU to the last incident : ${cpu}`);
  }

  const own = roots().length - summaries().length;
  console.log(
    `Slack posts             : ${roots().length} (${own} threads of their own + ${summaries().length} storm summar${summaries().length === 1 ? 'y' : 'ies'}), ` +
      `${summaries().reduce((n, m) => n + m.updates, 0)} summary updates in place, ${slack.state.messages.length - roots().length} replies`,
  );
  console.log(
    `Slack shows every one   : ` +
      (slackSettled === null
        ? `NOT before any resolve: ${listed().toLocaleString('en-US')} of ${ALERTS.toLocaleString('en-US')} incidents shown ${seconds(WAIT_MS)} after the last was accepted`
        : `${seconds(slackSettled)} after the last was accepted` +
          (inHistory !== null ? ` (${slackSettled >= inHistory ? `${seconds(slackSettled - inHistory)} after` : `${seconds(inHistory - slackSettled)} before`} the last was in the history)` : '') +
          ', before any resolve'),
  );
  const calls = (route: string) => opsgenie.state.calls.filter((c) => c.route === route && c.status === 202).length;
  await until(() => opsgenie.state.alerts.length >= own + summaries().length, accepted);
  const stormAlerts = opsgenie.state.alerts.filter((a) => a.alias.startsWith('storm:'));
  console.log(
    `pages                   : ${opsgenie.state.alerts.length} pager alerts (${opsgenie.state.alerts.length - stormAlerts.length} of their own + ${stormAlerts.length} for the storm), ` +
      `${calls('notes')} notes, ${calls('create') + calls('notes') + calls('close')} pager calls in all`,
  );
  console.log(`RSS, history complete   : ${rss}`);

  const updatesFiring = summaries().reduce((n, m) => n + m.updates, 0);

  // Then every alert resolves: the summaries must end on the final state (every incident counted, none open).
  await sendAll('resolved');
  const resolvesAccepted = Date.now();
  const final = () => listed() >= ALERTS && summaries().every((m) => m.text.endsWith('(0 open)'));
  const finalShown = await until(final, resolvesAccepted);
  console.log(
    `all resolved            : ` +
      (finalShown === null
        ? `summaries NOT final within ${seconds(WAIT_MS)}: ${summaries().map((m) => m.text.replace(/^.*?: /, '')).join('; ')}`
        : `every summary final (all ${ALERTS} counted, 0 open) ${seconds(finalShown)} after the last resolve was accepted`) +
      `; ${summaries().reduce((n, m) => n + m.updates, 0) - updatesFiring} more summary updates in place`,
  );
  await db.end();
  await Promise.all(supervisors.map((s) => s.supervisor.stop()));
  await slack.close();
  await opsgenie.close();
  if (stopBroker) await stopBroker();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
