/**
 * `npm start`: brings up everything alertbus needs on one machine, in the foreground — after checking the
 * machine has what it takes (preflight) — a PostgreSQL (DATABASE_URL, else the local server, else an embedded
 * one), a local Kafka broker when KAFKA_BROKERS is not set, the topics, and every service as its own process.
 * Says "ready" only when every service answers /readyz; if anything exits during start-up it shows why, stops
 * the rest and exits non-zero. Once ready, a process that crashes is started again after a back-off (1 s doubling
 * to 30 s), the rest left running; so is the local Kafka broker, on its port and data dir (its records kept), while
 * the services wait for it. Ctrl-C / SIGTERM stops all of it, also while it is still starting.
 * `--scale router=3,slack-sink=2` runs several instances of a service, each with its own port and instance id.
 */
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkTopicPrefix, ConfigError, DEFAULT_DATABASE_URL, ensureDatabase, envBrokers, envDatabaseUrl, envInt } from '@alertbus/common';
import { loadRules } from '@alertbus/routing';
import {
  channelsOfRules,
  DEFAULT_SLACK_CHANNELS,
  DEFAULT_SLACK_USERS,
  formatStandInChannels,
  formatStandInUsers,
  parseStandInChannels,
  parseStandInUsers,
  withChannels,
} from '@alertbus/stand-ins';
import { createKafka, ensureKafkaJars, ensureTopics, startLocalBroker, type LocalBroker } from '@alertbus/kafka';
import {
  checkJava,
  checkNode,
  chooseDatabase,
  embeddedPostgres,
  formatProblem,
  freePort,
  isProblem,
  javaVersionOutput,
  locatePostgresBinaries,
  nicenessTable,
  NiceError,
  parseScale,
  portAnswers,
  portOf,
  redactUrl,
  ScaleError,
  serviceDef,
  serviceInstances,
  serviceProcess,
  SERVICES,
  STAND_INS,
  RESTART_MAX_MS,
  RESTART_STABLE_MS,
  restartDelay,
  Supervisor,
  thisHost,
  type Problem,
  type ServiceInstance,
  type ServiceName,
} from '@alertbus/launcher';
import { historyTokenOf, routeSample } from './sample';

const root = resolve(__dirname, '..');

const USAGE = `usage: npm start -- [--stand-ins] [--sample] [--embedded-postgres] [--scale SERVICE=N,...]

  --stand-ins          also start local Slack and Opsgenie stand-ins and point the sinks at them
                       (otherwise, without SLACK_BOT_TOKEN / OPSGENIE_API_KEY, the sinks run dry)
  --sample             once everything is up, route examples/alertmanager-firing.json and show the incident
  --embedded-postgres  use the embedded PostgreSQL even when a server answers on 127.0.0.1:5432
                       (DATABASE_URL, when set, always wins)
  --scale SPEC         several instances of a service, e.g. --scale router=3,slack-sink=2 (1 to 16 each;
                       services: history, router, slack-sink, opsgenie-sink, ingest). The first instance
                       keeps the service's port, the others take free ones; routers get ROUTER_INSTANCE_ID
                       0..N-1, every instance of a scaled service ALERTBUS_INSTANCE_ID (logs, metrics)
`;

function say(msg: string): void {
  process.stdout.write(`[alertbus] ${msg}\n`);
}

const supervisorAbort = new AbortController();
const supervisor = new Supervisor({
  output: (name, line, stream) => (stream === 'stderr' ? process.stderr : process.stdout).write(`[${name}] ${line}\n`),
  signal: supervisorAbort.signal,
});
let broker: LocalBroker | undefined;
/** A restart of the local broker under way: shutdown waits for it to give up (the abort signal) before stopping the broker. */
let brokerRestart: Promise<unknown> | undefined;
let phase: 'starting' | 'running' | 'stopping' = 'starting';

async function shutdown(code: number): Promise<never> {
  if (phase === 'stopping') return new Promise<never>(() => undefined);
  phase = 'stopping';
  supervisorAbort.abort(new Error('stopping'));
  say('stopping…');
  await supervisor.stop();
  await brokerRestart?.catch(() => undefined);
  if (broker) await broker.stop().catch(() => undefined);
  say('stopped');
  process.exit(code);
}

function onSignal(signal: NodeJS.Signals): void {
  if (phase === 'stopping') return;
  say(phase === 'starting' ? `${signal} during start-up: stopping what was started` : `${signal}`);
  void shutdown(phase === 'starting' ? 130 : 0);
}

/**
 * The settings this script reads itself, checked as the services check theirs: before, a broker without its port, a
 * DATABASE_URL pg could not parse or a port that was no number failed later with an error naming none of them.
 */
function checkSettings(env: NodeJS.ProcessEnv): void {
  if (env.KAFKA_BROKERS) envBrokers(env);
  else checkTopicPrefix(env);
  if (env.DATABASE_URL) envDatabaseUrl(env);
  envInt(env, 'EMBEDDED_POSTGRES_PORT', 0, { min: 1, max: 65_535 });
  for (const def of [...SERVICES, ...STAND_INS]) {
    try {
      portOf(def, env);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
}

/** Everything that must hold before anything starts; all missing pieces at once, one line each. */
async function preflight(env: NodeJS.ProcessEnv, forceEmbedded: boolean) {
  const host = thisHost();
  const problems: Problem[] = [];
  const node = checkNode(process.versions.node, host);
  if (node) problems.push(node);
  if (!env.KAFKA_BROKERS) {
    const java = checkJava(javaVersionOutput(), host);
    if (java) problems.push(java);
  }
  let embeddedUnavailable: string | undefined;
  const localAnswers = !env.DATABASE_URL && !forceEmbedded && (await portAnswers('127.0.0.1', 5432));
  if (!env.DATABASE_URL && !localAnswers) {
    try {
      locatePostgresBinaries();
    } catch (err) {
      embeddedUnavailable = (err as Error).message;
    }
  }
  const database = chooseDatabase(
    { databaseUrl: env.DATABASE_URL, forceEmbedded, localAnswers, embeddedUnavailable, localUrl: DEFAULT_DATABASE_URL },
    host,
  );
  if (isProblem(database)) problems.push(database);
  return { problems, database };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'stand-ins': { type: 'boolean', default: false },
      sample: { type: 'boolean', default: false },
      'embedded-postgres': { type: 'boolean', default: false },
      scale: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  let scale = new Map<ServiceName, number>();
  let nice = new Map<string, number>();
  try {
    if (values.scale !== undefined) scale = parseScale(values.scale);
    nice = nicenessTable(process.env);
    checkSettings(process.env);
  } catch (err) {
    if (!(err instanceof ScaleError || err instanceof NiceError || err instanceof ConfigError)) throw err;
    say(err.message);
    say('nothing was started');
    process.exit(2);
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const env: NodeJS.ProcessEnv = { ...process.env };
  const forceEmbedded = values['embedded-postgres'] ?? false;
  const { problems, database } = await preflight(env, forceEmbedded);
  if (problems.length > 0 || isProblem(database)) {
    for (const p of problems) say(formatProblem(p));
    say('nothing was started');
    process.exit(1);
  }
  if (forceEmbedded && database.kind === 'explicit') say('--embedded-postgres ignored: DATABASE_URL is set, and it always wins');

  const dataHome = resolve(env.ALERTBUS_DATA_DIR || join(root, '.alertbus'));
  const shown = (p: string) => (p.startsWith(root) ? relative(root, p) : p);

  if (!env.KAFKA_BROKERS) await ensureKafkaJars({ log: (m) => say(`kafka: ${m}`) });

  let dbUrl: string;
  let dbLabel: string;
  if (database.kind === 'embedded') {
    const dataDir = join(dataHome, 'postgres');
    const pg = embeddedPostgres({ dataDir, port: envInt(env, 'EMBEDDED_POSTGRES_PORT', 0, { min: 1, max: 65_535 }) || (await freePort()), database: 'alertbus' });
    say(`${forceEmbedded ? '--embedded-postgres' : 'DATABASE_URL not set and nothing answers on 127.0.0.1:5432'}: starting the embedded PostgreSQL ${pg.version}${pg.fresh ? ' (first start: initialising)' : ''}…`);
    await supervisor.start([pg.spec]);
    dbUrl = pg.url;
    dbLabel = `embedded PostgreSQL ${pg.version}, data in ${shown(dataDir)}`;
  } else {
    dbUrl = database.url;
    dbLabel = database.kind === 'explicit' ? 'DATABASE_URL' : 'the server on 127.0.0.1:5432';
  }
  await ensureDatabase(dbUrl);
  env.DATABASE_URL = dbUrl;
  say(`Postgres: ${dbLabel} — ${redactUrl(dbUrl)}`);

  const kafkaDataDir = join(dataHome, 'kafka-data');
  if (!env.KAFKA_BROKERS) {
    say('KAFKA_BROKERS not set: starting a local single-node Kafka broker (KRaft)…');
    broker = await startLocalBroker({ dataDir: kafkaDataDir, log: (m) => say(`kafka: ${m}`), signal: supervisorAbort.signal });
    env.KAFKA_BROKERS = broker.brokers.join(',');
    void keepBroker(broker, kafkaDataDir);
  }
  say(`Kafka: ${env.KAFKA_BROKERS}`);

  const kafka = createKafka({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'alertbus-start' });
  const created = await ensureTopics(kafka);
  say(created.length ? `created topics: ${created.join(', ')}` : 'topics present');

  if (values['stand-ins']) {
    env.SLACK_STAND_IN_CHANNELS = standInChannels(env);
    // Like Slack, the stand-in knows no user it was not given (user_not_found): without any, no ephemeral could reach anyone.
    env.SLACK_STAND_IN_USERS ||= formatStandInUsers(DEFAULT_SLACK_USERS);
    // With no way in from Slack configured, ingest takes the stand-in's Socket Mode: a click or a mention posted to
    // the stand-in's /_stand-in/socket/envelopes reaches ingest as Slack's would (the stand-in accepts this app token).
    const standInSocket = !env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN && !env.SLACK_CLIENT_ID;
    if (standInSocket) env.SLACK_APP_TOKEN = 'xapp-stand-in';
    const [slack, opsgenie] = STAND_INS.map((s) => ({ def: s, port: portOf(s, env) }));
    // Given a pager token (INGEST_TOKENS entry `opsgenie`), the pager stand-in reports acks and closes to ingest,
    // as Opsgenie's Webhook integration does: the way back can be tried on the stand-ins.
    const pagerToken = namedIngestToken(env.INGEST_TOKENS, 'opsgenie');
    if (pagerToken && !env.OPSGENIE_STAND_IN_WEBHOOK_URL) {
      env.OPSGENIE_STAND_IN_WEBHOOK_URL = `http://127.0.0.1:${portOf(serviceDef('ingest'), env)}/webhooks/opsgenie`;
      env.OPSGENIE_STAND_IN_WEBHOOK_AUTHORIZATION = `Bearer ${pagerToken}`;
    }
    await supervisor.start([slack!, opsgenie!].map(({ def, port }) => serviceProcess(def, { root, env, port })));
    env.SLACK_API_URL = `http://127.0.0.1:${slack!.port}/api/`;
    env.SLACK_BOT_TOKEN = env.SLACK_BOT_TOKEN || 'xoxb-stand-in';
    env.OPSGENIE_API_URL = `http://127.0.0.1:${opsgenie!.port}`;
    env.OPSGENIE_API_KEY = env.OPSGENIE_API_KEY || 'stand-in-genie-key';
    say(`Slack stand-in: ${env.SLACK_API_URL} · Opsgenie stand-in: ${env.OPSGENIE_API_URL}`);
    say(`Slack stand-in channels: ${env.SLACK_STAND_IN_CHANNELS.split(',').map((c) => `#${c.split(':')[1]}`).join(', ')}`);
    say(`Slack stand-in users: ${parseStandInUsers(env.SLACK_STAND_IN_USERS).map((u) => `@${u.name} (${u.id})`).join(', ')}`);
    if (env.OPSGENIE_STAND_IN_WEBHOOK_URL) say(`Opsgenie stand-in reports acks and closes to ${env.OPSGENIE_STAND_IN_WEBHOOK_URL}`);
    if (standInSocket) say(`Slack stand-in reaches ingest over Socket Mode: POST clicks and mentions to http://127.0.0.1:${slack!.port}/_stand-in/socket/envelopes`);
  }

  const instances = await withPorts(serviceInstances(scale), env);
  // Ingest (`/alertbus ack <incident id>`) and the slack-sink (`/alertbus incidents`, `silences`) read the history:
  // this stack's, wherever HISTORY_PORT put it, with a token it takes when HISTORY_API_TOKENS asks for one.
  const history = instances.find((i) => i.def.name === 'history');
  if (history && !env.HISTORY_URL) env.HISTORY_URL = `http://127.0.0.1:${history.port}`;
  if (!env.HISTORY_TOKEN && !env.ALERTBUS_TOKEN) {
    const token = historyTokenOf(env);
    if (token) env.HISTORY_TOKEN = token;
  }
  const niced = instances.filter((i) => (nice.get(i.def.name) ?? 0) > 0).map((i) => `${i.name} +${nice.get(i.def.name)}`);
  say(`starting ${instances.map((i) => i.name).join(', ')}…${niced.length ? ` (CPU priority, ALERTBUS_NICE: ${niced.join(', ')})` : ''}`);
  await supervisor.start(instances.map((i) => ({ ...serviceProcess(i.def, { root, env: { ...env, ...i.env }, port: i.port }), name: i.name })));
  if (phase !== 'starting') return;
  phase = 'running';
  // A crash after start-up is not a setting to fix: the services' transactions and ledgers make a restart safe,
  // and stopping the stack would turn one crash into refused webhooks.
  supervisor.restartCrashed({
    onCrash: ({ name, how, attempt, delayMs, logTail }) => {
      const again = `restarting it in ${delayMs / 1000} s`;
      if (attempt === 1) return say(`${name} exited unexpectedly (${how}); ${again}`);
      const tail = logTail.length ? `; its log ends:\n${logTail.map((l) => `  ${l}`).join('\n')}` : '';
      say(`${name} exited unexpectedly (${how}), ${attempt} times in a row; ${again}${delayMs >= RESTART_MAX_MS ? ' (and every 30 s while it keeps crashing)' : ''}${tail}`);
    },
    onBack: ({ name, pid }) => say(`${name} restarted (pid ${pid}) and ready`),
  });

  const url = (i: PortedInstance) => `http://127.0.0.1:${i.port}`;
  const what: Record<ServiceName, (i: PortedInstance) => string> = {
    ingest: (i) => `${url(i)}  (POST ${['/webhooks/alertmanager', '/webhooks/grafana', '/webhooks/generic', ...pagerWebhooks(env.INGEST_TOKENS, env.INGEST_PAGER_SENDERS)].join(', ')})`,
    history: (i) => `${url(i)}  (GET /api/incidents)`,
    router: (i) => `${url(i)}/metrics${i.count > 1 ? `  (ROUTER_INSTANCE_ID=${i.index})` : ''}`,
    'slack-sink': (i) => `${url(i)}/metrics  (${env.SLACK_BOT_TOKEN ? 'live' : 'dry-run: no SLACK_BOT_TOKEN'})`,
    'opsgenie-sink': (i) => `${url(i)}/metrics  (${env.OPSGENIE_API_KEY ? 'live' : 'dry-run: no OPSGENIE_API_KEY'})`,
  };
  const first = (name: ServiceName) => instances.find((i) => i.def.name === name)!;
  say('ready:');
  const shownOrder: ServiceName[] = ['ingest', 'history', 'router', 'slack-sink', 'opsgenie-sink'];
  for (const name of shownOrder) for (const i of instances.filter((x) => x.def.name === name)) say(`  ${i.name.padEnd(8)} ${what[name](i)}`);
  if ((scale.get('ingest') ?? 1) > 1) say('  (each ingest instance takes webhooks on its own port: put a load balancer in front, or point senders at any)');
  say(`  Postgres ${dbLabel}`);
  // The CLI looks for ingest and the history on their default ports: elsewhere, it must be told.
  const cliUrls = [
    ['INGEST_URL', url(first('ingest')), DEFAULT_INGEST_URL],
    ['HISTORY_URL', url(first('history')), DEFAULT_HISTORY_URL],
  ].filter(([, at, byDefault]) => at !== byDefault);
  if (cliUrls.length > 0) say(`for the alertbus CLI in another terminal:\n${cliUrls.map(([name, at]) => `  export ${name}=${at}`).join('\n')}`);
  if (values.sample) {
    await routeSample({
      root,
      ingest: url(first('ingest')),
      history: url(first('history')),
      livePager: Boolean(env.OPSGENIE_API_KEY),
      env: process.env,
      say,
      running: () => phase === 'running',
    });
  }
  say('Ctrl-C stops everything.');
}

/**
 * The pager webhooks a named INGEST_TOKENS entry can post to (ingest takes none without one): the entries named
 * `opsgenie` and `jsm` their own route only, the senders INGEST_PAGER_SENDERS lists both.
 */
function pagerWebhooks(entries: string | undefined, pagerSenders: string | undefined): string[] {
  const names = (entries ?? '').split(',').map((e) => (e.indexOf(':') > 0 ? e.slice(0, e.indexOf(':')).trim() : '')).filter(Boolean);
  const listed = (pagerSenders ?? '').split(',').map((n) => n.trim()).filter((n) => names.includes(n));
  return (['opsgenie', 'jsm'] as const).filter((route) => names.includes(route) || listed.length > 0).map((route) => `/webhooks/${route}`);
}

/** The token of the INGEST_TOKENS entry (`NAME:TOKEN`, comma-separated) with this name; ingest checks their form. */
function namedIngestToken(entries: string | undefined, name: string): string | undefined {
  for (const entry of (entries ?? '').split(',')) {
    const at = entry.indexOf(':');
    if (at > 0 && entry.slice(0, at).trim() === name) return entry.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * SLACK_STAND_IN_CHANNELS for `--stand-ins`: the stand-in answers channel_not_found for a channel it does not
 * know, as Slack does, so it is given every channel the rules in force name (ROUTING_RULES, else the built-in
 * defaults), besides #alerts, #ops and what SLACK_STAND_IN_CHANNELS already lists.
 */
function standInChannels(env: NodeJS.ProcessEnv): string {
  const given = env.SLACK_STAND_IN_CHANNELS ? parseStandInChannels(env.SLACK_STAND_IN_CHANNELS) : DEFAULT_SLACK_CHANNELS;
  const rules = loadRules(env.ROUTING_RULES || undefined, { defaultChannel: env.SLACK_DEFAULT_CHANNEL || '#alerts' });
  const defaults = DEFAULT_SLACK_CHANNELS.map((c) => `#${c.name}`);
  return formatStandInChannels(withChannels(given, [...defaults, ...channelsOfRules(rules)]));
}

/** Where the `alertbus` CLI finds ingest and the history unless INGEST_URL / HISTORY_URL say otherwise (cli/, history-client). */
const DEFAULT_INGEST_URL = 'http://127.0.0.1:8080';
const DEFAULT_HISTORY_URL = 'http://127.0.0.1:8081';

type PortedInstance = ServiceInstance & { port: number };

/** The first instance of a service listens on the service's port (its variable or default), the others on free ports. */
async function withPorts(instances: ServiceInstance[], env: NodeJS.ProcessEnv): Promise<PortedInstance[]> {
  const taken = new Set(instances.filter((i) => i.index === 0).map((i) => portOf(i.def, env)));
  const out: PortedInstance[] = [];
  for (const i of instances) {
    let port = i.index === 0 ? portOf(i.def, env) : await freePort();
    while (i.index > 0 && taken.has(port)) port = await freePort();
    taken.add(port);
    out.push({ ...i, port });
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once the broker's process is gone, or `npm start` is stopping. */
async function brokerGone(b: LocalBroker): Promise<void> {
  for (;;) {
    if (phase === 'stopping') return;
    try {
      process.kill(b.pid, 0);
    } catch {
      return;
    }
    await sleep(1_000);
  }
}

/**
 * Watches the local broker from its start: one that dies while the stack starts stops `npm start`; once the stack
 * runs, one that dies (OOM kill, kill -9) is started again on the same port (the address every service was given)
 * and the same data dir (what it had acknowledged stays), with the services' back-off. The services wait for it
 * meanwhile, and ingest answers 503 ("nothing was written") to what it cannot hand to Kafka.
 */
async function keepBroker(first: LocalBroker, dataDir: string): Promise<void> {
  const address = first.brokers[0]!;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  let startedAt = Date.now();
  let attempt = 0;
  for (let b = first; ; ) {
    await brokerGone(b);
    if (phase === 'stopping') return;
    if (phase === 'starting') {
      // Nothing was ready yet to ride it out: a broker that cannot stay up while the stack starts is a fault to see.
      say(`the Kafka broker (pid ${b.pid}) exited during start-up; stopping what was started (its data is in ${dataDir})`);
      return void shutdown(1);
    }
    await b.stop().catch(() => undefined);
    attempt = Date.now() - startedAt >= RESTART_STABLE_MS ? 1 : attempt + 1;
    let why = `the Kafka broker (pid ${b.pid}) exited unexpectedly`;
    for (;;) {
      const delayMs = restartDelay(attempt);
      say(`${why}; restarting it on ${address} in ${delayMs / 1000} s (data in ${dataDir} kept; the services wait for it)`);
      await sleep(delayMs);
      if (phase !== 'running') return;
      brokerRestart = startLocalBroker({ dataDir, port, log: (m) => say(`kafka: ${m}`), signal: supervisorAbort.signal });
      try {
        b = (await brokerRestart) as LocalBroker;
        broker = b;
        startedAt = Date.now();
        say(`Kafka broker restarted (pid ${b.pid}) and ready at ${address}`);
        break;
      } catch (err) {
        if (phase !== 'running') return;
        attempt++;
        why = `the Kafka broker could not be started again (${(err as { portInUse?: boolean }).portInUse ? `${address} is in use` : firstLine(err)})`;
      } finally {
        brokerRestart = undefined;
      }
    }
  }
}

function firstLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0]!.slice(0, 300);
}

main().catch((err: unknown) => {
  if (phase === 'stopping') return;
  say(`start failed: ${(err as Error)?.message ?? String(err)}`);
  void shutdown(1);
});
