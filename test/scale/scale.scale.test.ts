/**
 * The stack scaled out on one broker: 3 routers, 2 slack-sinks and 2 opsgenie-sinks (each `alertbus serve …`), one
 * ingest and one history. 2,000 alerts go in: 100 inhibition pairs whose source and target are held by different
 * router instances, a storm of 60 new incidents in #storm, and plain alerts. Midway one router and one slack-sink
 * are killed -9 and a fourth router joins. Afterwards: every alert that was not inhibited is posted (its own thread,
 * or listed in the storm summary) and paged exactly once, every inhibition was applied (nothing posted or paged
 * for the target, the source's incident named), and #storm has exactly one storm summary.
 *
 * `npm run test:scale` (minutes on 2 cores; not part of `npm test`).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '@alertbus/common';
import { createKafka, ensureTopics, partitionOfKey } from '@alertbus/kafka';
import { freePort, httpReady, Supervisor } from '@alertbus/launcher';
import { startOpsgenieStandIn, startSlackStandIn, type OpsgenieStandIn, type SlackStandIn } from '@alertbus/stand-ins';
import { TOPICS } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { dropTestDatabase } from '../support/db';
import { FAULT_ENV, sleep } from '../support/fault-run';
import { observe, type Observation } from '../support/exactly-once';
import { postAll, Stack } from '../support/stack';
import { readTopic } from '../support/kafka';

const BIN = resolve(__dirname, '../../cli/bin/alertbus.js');
const TOTAL = 2_000;
const PAIRS = 100;
const STORM = 60;
const STORM_THRESHOLD = 30;
/** Ingest aliases an Alertmanager alert by its fingerprint under this prefix. */
const PREFIX = 'alertmanager:';

const RULES = `
defaults:
  slack: { channel: "#alerts" }
  pager: { enabled: true }
rules:
  - match: ['team="storm"']
    slack: { channel: "#storm" }
inhibit:
  - name: critical-mutes-warnings
    source_match: ['severity="critical"']
    target_match: ['severity="warning"']
    equal: [pair]
storm_control:
  threshold: ${STORM_THRESHOLD}
  window: 30m
  # Every alert is paged on its own (the test counts one page per alert); posts are still gathered into the summary.
  pages: each
  channels:
    "#alerts": { enabled: false }
`;

type Kind = 'plain' | 'source' | 'target' | 'storm';
interface Sent {
  alias: string;
  kind: Kind;
  pair?: number;
}

function body(a: Sent): string {
  const severity = a.kind === 'source' ? 'critical' : 'warning';
  const labels: Record<string, string> = { alertname: a.kind === 'storm' ? 'StormMember' : 'ScaleTest', severity, instance: a.alias };
  if (a.pair !== undefined) labels.pair = `p${a.pair}`;
  if (a.kind === 'storm') labels.team = 'storm';
  return JSON.stringify({
    version: '4',
    status: 'firing',
    receiver: 'alertbus',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://am.example',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: { summary: `scale test ${a.alias}` },
        startsAt: '2026-11-22T08:00:00Z',
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prom.example/graph',
        fingerprint: a.alias.slice(PREFIX.length),
      },
    ],
  });
}

/** One `alertbus serve <service>` process with its own ops port and its output kept. */
interface Served {
  name: string;
  supervisor: Supervisor;
  output: string[];
  url: string;
}

let env: NodeJS.ProcessEnv;
let kafka: Kafka;
let slack: SlackStandIn;
let opsgenie: OpsgenieStandIn;
let stack: Stack;
const served = new Map<string, Served>();

async function serve(name: string, service: string, portVar: string, extra: NodeJS.ProcessEnv): Promise<Served> {
  const port = await freePort();
  const output: string[] = [];
  const supervisor = new Supervisor({ stopGraceMs: 20_000, readyTimeoutMs: 180_000, output: (_n, line) => output.push(line) });
  const url = `http://127.0.0.1:${port}`;
  await supervisor.start([
    {
      name,
      command: process.execPath,
      args: [BIN, 'serve', service],
      env: { ...process.env, ...env, ...extra, [portVar]: String(port), LOG_LEVEL: 'info' },
      ready: (pid) => httpReady(`${url}/readyz`, pid),
    },
  ]);
  const s = { name, supervisor, output, url };
  served.set(name, s);
  return s;
}

const router = (i: number) => serve(`router-${i}`, 'router', 'ROUTER_PORT', { ROUTER_INSTANCE_ID: String(i), ALERTBUS_INSTANCE_ID: String(i) });
const sink = (service: 'slack-sink' | 'opsgenie-sink', i: number) =>
  serve(`${service}-${i}`, service, service === 'slack-sink' ? 'SLACK_SINK_PORT' : 'OPSGENIE_SINK_PORT', { ALERTBUS_INSTANCE_ID: String(i) });

interface Restored {
  time: number;
  partitions: number[];
}

/** Each restore a router logged ("router state restored", with the partitions it holds from then on). */
function restores(s: Served): Restored[] {
  return s.output.flatMap((l) => {
    try {
      const j = JSON.parse(l) as { time: string; msg: string; partitions?: number[] };
      return j.msg === 'router state restored' ? [{ time: Date.parse(j.time), partitions: j.partitions ?? [] }] : [];
    } catch {
      return [];
    }
  });
}

/** Router name → the partitions of its latest restore, for the routers alive. */
function assignment(routers: readonly string[]): Map<string, number[]> {
  return new Map(routers.map((n) => [n, restores(served.get(n)!).at(-1)?.partitions ?? []]));
}

async function waitAssigned(routers: readonly string[], timeoutMs: number): Promise<Map<string, number[]>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const a = assignment(routers);
    const all = [...a.values()].flat().sort((x, y) => x - y);
    if (all.join() === '0,1,2,3,4,5' && [...a.values()].every((p) => p.length > 0)) return a;
    if (Date.now() > deadline) throw new Error(`routers never shared the partitions: ${JSON.stringify([...a])}`);
    await sleep(1_000);
  }
}

const progress = (what: string) => process.stderr.write(`[scale] ${new Date().toISOString()} ${what}\n`);

const partitionOf = (alias: string) => partitionOfKey(kafka, TOPICS.alertsReceived, alias);

beforeAll(async () => {
  slack = await startSlackStandIn({
    tokens: ['xoxb-scale'],
    channels: [
      { id: 'C0ALERTS', name: 'alerts' },
      { id: 'C0STORM', name: 'storm' },
    ],
    users: [],
    usergroups: [],
    appTokens: [],
  });
  opsgenie = await startOpsgenieStandIn({ apiKeys: ['scale-key'], onCall: {} });
  const rules = join(mkdtempSync(join(tmpdir(), 'alertbus-scale-')), 'rules.yaml');
  writeFileSync(rules, RULES);
  env = {
    ...FAULT_ENV,
    SLACK_BOT_TOKEN: 'xoxb-scale',
    SLACK_API_URL: slack.url,
    OPSGENIE_API_KEY: 'scale-key',
    OPSGENIE_API_URL: opsgenie.url,
    SLACK_DEFAULT_CHANNEL: '#alerts',
    ROUTING_RULES: rules,
  };
  kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'scale-test', log: createLogger('scale-test', 'silent') });
  await ensureTopics(kafka);
  stack = new Stack(env);
  await stack.start('history');
  await Promise.all([router(0), router(1), router(2), sink('slack-sink', 0), sink('slack-sink', 1), sink('opsgenie-sink', 0), sink('opsgenie-sink', 1)]);
  await stack.start('ingest');
}, 600_000);

afterAll(async () => {
  await Promise.all([...served.values()].map((s) => s.supervisor.stop()));
  await stack?.stopAll();
  await slack?.close();
  await opsgenie?.close();
  await dropTestDatabase();
});

/** Waits until each alert's incident was opened (its decision committed on incidents.v1). */
async function waitOpened(list: readonly Sent[], timeoutMs: number): Promise<void> {
  const want = new Set(list.map((a) => a.alias));
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const opened = new Set((await readTopic(kafka, TOPICS.incidents)).filter((r) => r.event?.type === 'IncidentOpened').map((r) => r.key));
    const missing = [...want].filter((a) => !opened.has(a));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${missing.length} incidents never opened, e.g. ${missing.slice(0, 3).join(', ')}`);
    await sleep(1_000);
  }
}

test('3 routers, 2 slack-sinks, 2 opsgenie-sinks; a router and a sink killed -9 and a router added midway: exactly once, inhibitions across instances, one storm summary', async () => {
  const started = Date.now();
  const routers = ['router-0', 'router-1', 'router-2'];
  const before = await waitAssigned(routers, 180_000);
  const ownerOf = (a: Map<string, number[]>, p: number) => [...a].find(([, ps]) => ps.includes(p))?.[0];

  // Inhibition pairs: each target is on a partition another router holds than its source's.
  const sources: Sent[] = [];
  const targets: Sent[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const source = `${PREFIX}scale-src-${i}`;
    const owner = ownerOf(before, await partitionOf(source));
    for (let j = 0; ; j++) {
      const target = `${PREFIX}scale-dst-${i}-${j}`;
      if (ownerOf(before, await partitionOf(target)) !== owner) {
        targets.push({ alias: target, kind: 'target', pair: i });
        break;
      }
    }
    sources.push({ alias: source, kind: 'source', pair: i });
  }
  const storm: Sent[] = Array.from({ length: STORM }, (_, i) => ({ alias: `${PREFIX}scale-storm-${i}`, kind: 'storm' as const }));
  const plain: Sent[] = Array.from({ length: TOTAL - 2 * PAIRS - STORM }, (_, i) => ({ alias: `${PREFIX}scale-plain-${i}`, kind: 'plain' as const }));

  // Phase 1: the sources, the storm and a quarter of the plain alerts. A decision sees the incidents other routers
  // had committed when its batch began (services/router/README.md, ordering): an inhibition applies to targets
  // decided after its source's decision committed, and the first incident gathered into a storm must be known
  // before the next one is decided, or each could start a summary. So the sources are decided before any target is
  // sent, the storm's first 30 incidents before the 31st, and the 31st (the first gathered) before the other 29.
  const phase1Plain = plain.slice(0, 500);
  const send = (list: Sent[], concurrency = 8) => postAll(stack, '/webhooks/alertmanager', list.map(body), concurrency);
  const stormFirst = storm.slice(0, STORM_THRESHOLD);
  await send([...sources, ...stormFirst, ...phase1Plain]);
  await waitOpened([...sources, ...stormFirst], 300_000);
  await send([storm[STORM_THRESHOLD]!]);
  await waitOpened([storm[STORM_THRESHOLD]!], 300_000);
  await send(storm.slice(STORM_THRESHOLD + 1));
  progress('phase 1 sent: sources decided, storm started');

  // Phase 2: the targets and the rest; a router and a slack-sink killed -9 a third in, a fourth router added.
  const phase2 = [...targets, ...plain.slice(500)];
  const third = Math.floor(phase2.length / 3);
  await send(phase2.slice(0, third));
  progress('killing router-2 and slack-sink-1');
  const killedAt = Date.now();
  await Promise.all([served.get('router-2')!.supervisor.stop({ signal: 'SIGKILL' }), served.get('slack-sink-1')!.supervisor.stop({ signal: 'SIGKILL' })]);
  served.delete('slack-sink-1');
  const survivors = ['router-0', 'router-1'];
  const sending = send(phase2.slice(third, 2 * third));
  const takeover = await waitAssigned(survivors, 300_000).then(() =>
    Math.max(...survivors.map((n) => restores(served.get(n)!).find((r) => r.time > killedAt)?.time ?? Date.now())) - killedAt,
  );
  await sending;
  progress(`survivors hold every partition after ${takeover} ms; adding router-3`);
  const addedAt = Date.now();
  await router(3);
  const joined = ['router-0', 'router-1', 'router-3'];
  await waitAssigned(joined, 300_000);
  const joinMs = Math.max(...restores(served.get('router-3')!).map((r) => r.time)) - addedAt;
  await send(phase2.slice(2 * third));

  progress('all sent; waiting for every decision, post and page');
  // Everything decided, posted and paged.
  const all = [...sources, ...targets, ...storm, ...plain];
  const notified = all.filter((a) => a.kind !== 'target');
  let obs: Observation | undefined;
  for (const deadline = Date.now() + 600_000; ; ) {
    obs = await observe({ kafka, slack: slack.state, opsgenie: opsgenie.state, historyUrl: () => stack.url('history') });
    const decided = new Set(obs.incidents.map((e) => e.alias));
    const paged = new Set(opsgenie.state.alerts.map((a) => a.alias));
    if (all.every((a) => decided.has(a.alias)) && notified.every((a) => paged.has(a.alias)) && slack.state.messages.length >= notified.length - STORM + STORM_THRESHOLD) break;
    if (Date.now() > deadline) break;
    await sleep(3_000);
  }
  await sleep(5_000);
  obs = await observe({ kafka, slack: slack.state, opsgenie: opsgenie.state, historyUrl: () => stack.url('history') });

  // The accounting, per alias.
  const incidentAlias = new Map<string, string>();
  for (const e of obs.incidents) if (e.type === 'IncidentOpened') incidentAlias.set(String(e.data.incidentId), e.alias);
  const creates = new Map<string, number>();
  for (const c of opsgenie.state.calls) {
    const alias = (c.body as { alias?: string } | undefined)?.alias;
    if (c.route === 'create' && c.status === 202 && !c.fault && alias) creates.set(alias, (creates.get(alias) ?? 0) + 1);
  }
  const gathered = new Map<string, string>();
  const inhibitedBy = new Map<string, string>();
  for (const e of obs.incidents) {
    const by = e.data.suppressedBy as { kind: string; summaryIncidentId?: string; alias?: string } | undefined;
    if (e.type === 'EventSuppressed' && by?.kind === 'storm') gathered.set(e.alias, by.summaryIncidentId!);
    if (e.type === 'EventSuppressed' && by?.kind === 'inhibition') inhibitedBy.set(e.alias, by.alias!);
  }
  const stormIds = new Set(gathered.values());
  const roots = slack.state.messages.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  const rootsByAlias = new Map<string, number>();
  let stormSummaryMessages = 0;
  for (const m of roots) {
    const incident = String(m.metadata?.event_payload?.incident_id ?? '');
    const alias = incidentAlias.get(incident);
    if (alias) rootsByAlias.set(alias, (rootsByAlias.get(alias) ?? 0) + 1);
    if (stormIds.has(incident)) stormSummaryMessages++;
  }
  const openings = new Map<string, number>();
  for (const e of obs.incidents) if (e.type === 'IncidentOpened' || e.type === 'IncidentReopened') openings.set(e.alias, (openings.get(e.alias) ?? 0) + 1);

  const short: Record<string, string[]> = {};
  const miss = (what: string, alias: string) => (short[what] ??= []).push(alias);
  let postedOnce = 0;
  let pagedOnce = 0;
  let inhibited = 0;
  for (const a of all) {
    if (a.kind === 'target') {
      const ok = inhibitedBy.get(a.alias) === sources[a.pair!]!.alias;
      if (ok && !openings.has(a.alias) && !rootsByAlias.has(a.alias) && !creates.has(a.alias)) inhibited++;
      else miss('inhibited', a.alias);
      continue;
    }
    const posted = gathered.has(a.alias) ? rootsByAlias.get(a.alias) === undefined : rootsByAlias.get(a.alias) === 1;
    if (openings.get(a.alias) === 1 && posted) postedOnce++;
    else miss('postedOnce', a.alias);
    if (creates.get(a.alias) === 1 && opsgenie.state.alerts.filter((x) => x.alias === a.alias).length === 1) pagedOnce++;
    else miss('pagedOnce', a.alias);
  }
  const actual = {
    postedOnce,
    pagedOnce,
    inhibited,
    stormSummaryIncidents: stormIds.size,
    stormSummaryMessages,
    gathered: gathered.size,
    deadLettered: obs.deadLetters.length,
  };
  const expected = {
    postedOnce: notified.length,
    pagedOnce: notified.length,
    inhibited: PAIRS,
    stormSummaryIncidents: 1,
    stormSummaryMessages: 1,
    gathered: STORM - STORM_THRESHOLD,
    deadLettered: 0,
  };
  process.stderr.write(
    `\n[scale] ${TOTAL} alerts through 3 routers (one killed -9, one added), 2+2 sinks (one killed -9) in ${Math.round((Date.now() - started) / 1000)} s; ` +
      `router takeover after kill -9 ${takeover} ms (session timeout ${FAULT_ENV.ROUTER_SESSION_TIMEOUT_MS} ms), new router deciding after ${joinMs} ms\n` +
      `  assignment before: ${JSON.stringify([...before])}\n  ${JSON.stringify(actual)}\n` +
      Object.entries(short).map(([w, l]) => `  - ${w}: ${l.length} short, e.g. ${l.slice(0, 5).join(', ')}\n`).join(''),
  );
  expect(actual).toEqual(expected);
}, 40 * 60_000);
