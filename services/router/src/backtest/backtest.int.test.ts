/**
 * Backtesting against real history: a stream routed by the running router with rules A (silences and
 * inhibition included, and people resolving incidents in Slack and in the pager), then backtested with rules B
 * over the same window, reports exactly the incidents whose outcome differs — through the library and through
 * `alertbus rules backtest` — and writes nothing.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { deriveId, GROUPS, makeEnvelope, TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { withoutSharedSeen } from '../../../../test/support/shared-seen';
import { formatBacktest, Replayer, SilenceBook, type BacktestReport, type RouterInput } from '@alertbus/routing';
import { firing, HOUR, MINUTE, resolved, T0 } from '@alertbus/routing/src/test-support/alerts';
import { buttonClick } from '@alertbus/routing/src/test-support/slack';
import { rulesFrom, testdataPath } from '@alertbus/routing/src/test-support/scenario';
import { startRouter, type Router } from '../index';
import { backtestFromKafka } from '@alertbus/backtest';

const iso = (ms: number) => new Date(T0 + ms).toISOString();
const A = rulesFrom('rules.backtest-a.yaml');
const f = (alias: string, labels: Record<string, string>, severity: string, at: number, n = 0) => firing(alias, { at, n, severity, labels });
const r = (alias: string, labels: Record<string, string>, severity: string, at: number) => resolved(alias, { at, severity, labels });

const silence = makeEnvelope({
  id: deriveId('silence', 'bt-batch', 'created'),
  type: 'SilenceCreated',
  alias: 'silence:bt-batch',
  occurredAt: iso(-2 * HOUR),
  recordedAt: iso(-2 * HOUR),
  source: 'history-api',
  data: { silenceId: 'bt-batch', matchers: ['team="batch"'], startsAt: iso(-2 * HOUR), endsAt: iso(2 * HOUR), createdBy: 'ana', comment: 'batch window', kind: 'maintenance' },
});
const before = [f('am:db-crit-old', { team: 'db' }, 'critical', -HOUR)];
const node = { team: 'web', instance: 'n1' };
const window = [
  f('am:db-crit', { team: 'db' }, 'critical', 0),
  f('am:db-warn', { team: 'db' }, 'warning', MINUTE),
  f('am:search', { team: 'search' }, 'warning', 2 * MINUTE),
  f('am:web', { team: 'web' }, 'critical', 3 * MINUTE),
  f('am:batch', { team: 'batch' }, 'warning', 4 * MINUTE), // silenced (maintenance) under both rules
  f('am:node-down', { ...node, alertname: 'NodeDown' }, 'critical', 5 * MINUTE),
  f('am:disk-n1', { ...node, alertname: 'DiskFull' }, 'warning', 6 * MINUTE), // inhibited under both rules
  f('am:db-crit', { team: 'db' }, 'critical', 7 * MINUTE, 1),
  r('am:search', { team: 'search' }, 'warning', 8 * MINUTE),
  f('am:db-crit-old', { team: 'db' }, 'critical', 9 * MINUTE),
  r('am:db-crit', { team: 'db' }, 'critical', 10 * MINUTE),
];
const after = [f('am:late', { team: 'search' }, 'warning', 2 * HOUR)];

/** The incident `alias` holds once A decided `inputs` (what the button a person clicks carries). */
function incidentIdAfter(inputs: RouterInput[], alias: string): string {
  const book = new SilenceBook();
  book.apply(silence);
  const replayer = new Replayer(A, { silences: book });
  inputs.forEach((i) => replayer.decide(i));
  return replayer.state(alias)!.incidentId;
}

/** The Opsgenie webhook's report of `action` on the pager alert `alias`, as ingest writes it. */
function pagerAction(action: string, alias: string, at: number): Envelope<'PagerActionReceived'> {
  const id = deriveId('bt-pager-action', alias, action, at);
  return makeEnvelope({
    id,
    type: 'PagerActionReceived',
    alias,
    occurredAt: iso(at),
    recordedAt: iso(at),
    source: 'ingest/opsgenie',
    correlationId: id,
    data: { provider: 'opsgenie', action, alertId: 'bt-alert-1', pagerAlias: alias, user: 'pager-person', raw: { action } },
  });
}

// People in the window: am:web resolved with its Slack button, am:search-2 closed in the pager; both fire again.
const webResolvedInSlack = buttonClick('am:web', incidentIdAfter([...before, ...window], 'am:web'), 'alertbus_resolve', { at: 11 * MINUTE });
const people = [
  webResolvedInSlack,
  f('am:web', { team: 'web' }, 'critical', 12 * MINUTE, 1),
  f('am:search-2', { team: 'search' }, 'warning', 13 * MINUTE),
  pagerAction('Close', 'am:search-2', 14 * MINUTE),
  f('am:search-2', { team: 'search' }, 'warning', 15 * MINUTE, 1),
];
const windowAlerts = [...window, ...people].filter((i) => i.type === 'AlertReceived').length;
const ALL: RouterInput[] = [...before, ...window, ...people, ...after];

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

const decisionsOf = async (): Promise<AnyEnvelope[]> =>
  (await Promise.all([TOPICS.incidents, TOPICS.slackCommands, TOPICS.pagerCommands].map((t) => readTopic(kafka, t))))
    .flat()
    .map((rec) => rec.event)
    .filter((e): e is AnyEnvelope => e !== undefined);

beforeAll(async () => {
  kafka = await testKafka('backtest-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'backtest-int-producer' }));
  await producer.connect();
  await producer.send([silence]);
  router = await startRouter({
    brokers: testBrokers(),
    port: 0,
    sessionTimeoutMs: 6_000,
    rulesPath: testdataPath('rules.backtest-a.yaml'),
    silenceEndTickIntervalMs: 500,
  });
  await router.ready;
  // One at a time, each decided before the next: inhibition looks at other aliases, so the order across
  // partitions must be the recorded order for the replay to agree (see the README on inhibition).
  for (const input of ALL) {
    await producer.send([input]);
    await waitFor(async () => (await readTopic(kafka, TOPICS.incidents)).some((rec) => rec.event?.causationId === input.id), {
      timeoutMs: 60_000,
      what: `the decision on ${input.alias}`,
    });
  }
  // The maintenance silence ended long ago (its window is in the past), so the router's silence-end ticker ticks for
  // am:batch, kept under it. Its decision writes router state; wait until it is decided, so that the tests that count
  // records see a router with nothing left to do.
  const tick = await waitFor(async () => (await readTopic(kafka, TOPICS.routerTicks)).find((rec) => rec.event?.alias === 'am:batch'), {
    timeoutMs: 60_000,
    what: 'the silence-end tick of am:batch',
  });
  await waitFor(async () => BigInt(await committedOffset(TOPICS.routerTicks, tick.partition)) > BigInt(tick.offset), {
    timeoutMs: 60_000,
    what: 'the silence-end tick of am:batch decided',
  });
});

/** The router group's committed offset on `topic`'s `partition` ('-1' before any). */
async function committedOffset(topic: string, partition: number): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: GROUPS.router, topics: [topic] });
    return committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
  } finally {
    await admin.disconnect();
  }
}

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

const changed = (report: BacktestReport) => report.changes.map((c) => [c.alias, c.differences]);
const dropped = ['channel', 'priority', 'paged', 'suppressed', 'messages'];
const CHANGED_BY_B = [
  ['am:db-crit', ['channel', 'priority', 'messages']],
  // Paged P2 under A before the window: under B its repeat raises the page to P1, with a reply in its thread.
  ['am:db-crit-old', ['priority', 'messages']],
  ['am:search', dropped],
  // Two occurrences under A (closed in the pager between them), dropped both times under B.
  ['am:search-2', dropped],
  ['am:search-2', dropped],
];
const SEARCH_2_CLOSED = {
  alias: 'am:search-2',
  at: iso(14 * MINUTE),
  via: 'pager',
  actual: { did: 'resolved' },
  candidate: { did: 'nothing', reason: 'no-incident', incident: 'none' },
};

test('the live router decided exactly what the pure replay decides (silence and inhibition included)', async () => {
  const book = new SilenceBook();
  book.apply(silence);
  const replayer = new Replayer(A, { silences: book });
  const want = ALL.flatMap((i) => replayer.decide(i).events);
  const got = await decisionsOf();
  const byId = (l: AnyEnvelope[]) => [...l].sort((a, b) => a.id.localeCompare(b.id));
  expect(byId(withoutSharedSeen(got))).toEqual(byId(want));
  const reasons = got.filter((e) => e.type === 'EventSuppressed').map((e) => (e.data as { reason: string }).reason);
  expect(reasons).toEqual(expect.arrayContaining(['silenced', 'inhibited']));
  // The people's resolves, and the new occurrences after them.
  expect(got.filter((e) => e.type === 'IncidentResolved' && (e.causationId === webResolvedInSlack.id || e.causationId === people[3]!.id))).toHaveLength(2);
  expect(got.filter((e) => e.type === 'IncidentReopened').map((e) => e.alias).sort()).toEqual(['am:search-2', 'am:web']);
});

test('a backtest with rules B reports exactly the incidents whose outcome differs, and writes nothing', async () => {
  const topics = [TOPICS.slackCommands, TOPICS.pagerCommands, TOPICS.deliveries, TOPICS.incidents, TOPICS.routerState, TOPICS.deadLetter];
  const counts = async () => Promise.all(topics.map(async (t) => (await readTopic(kafka, t)).length));
  const before = await counts();

  const progress: string[] = [];
  const report = await backtestFromKafka({
    kafka,
    rules: rulesFrom('rules.backtest-b.yaml'),
    fromMs: T0,
    toMs: T0 + HOUR,
    onProgress: (p) => progress.push(p.phase),
  });
  expect(changed(report)).toEqual(CHANGED_BY_B);
  expect(report.changes[0]).toMatchObject({
    actual: { channel: '#db', priority: 'P2', messages: { '#db': 2 } },
    candidate: { channel: '#db-critical', priority: 'P1', messages: { '#db-critical': 2 } },
    inputs: 3,
  });
  expect(report.totals).toMatchObject({
    inputs: windowAlerts,
    undecided: 0,
    changed: 5,
    actual: { suppressed: { silenced: 1, inhibited: 1 } },
    candidate: { suppressed: { silenced: 1, inhibited: 1, 'dropped-by-rule': 3, 'resolved-without-open-incident': 1 } },
  });
  // The click on am:web resolved it under B too (its second firing is a reopen on both sides, so no change); the close
  // of am:search-2, which B never opened, did nothing there.
  expect(report.people).toEqual({ inputs: 2, changed: [SEARCH_2_CLOSED] });
  expect(report.actualRulesVersions).toEqual([rulesFrom('rules.backtest-a.yaml').version]);
  expect(new Set(progress)).toEqual(new Set(['silences', 'inputs', 'history', 'commands', 'replay']));

  // The rules that routed the stream find nothing to change.
  const same = await backtestFromKafka({ kafka, rules: A, fromMs: T0, toMs: T0 + HOUR });
  expect(same.changes).toEqual([]);
  expect(same.totals.inputs).toBe(windowAlerts);
  expect(same.totals.candidate).toEqual(same.totals.actual);
  expect(same.people).toEqual({ inputs: 2, changed: [] });
  expect(formatBacktest(same, 'rules.yaml')).toContain('No incident would have a different outcome.');

  // No Slack post, no page: not one record more on any topic the sinks read or the router writes.
  expect(await counts()).toEqual(before);
});

test('`alertbus rules backtest --json` prints the same report; the text report names the changes', async () => {
  const root = path.resolve(__dirname, '../../../..');
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [path.join(root, 'cli/bin/alertbus.js'), ...args], { cwd: root, env: { ...process.env, LOG_LEVEL: 'silent' } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      p.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  const file = testdataPath('rules.backtest-b.yaml');
  const json = await cli(['rules', 'backtest', file, '--from', iso(0), '--to', iso(HOUR), '--json', '--progress']);
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout) as BacktestReport;
  expect(changed(report)).toEqual(CHANGED_BY_B);
  expect(report.people.changed).toEqual([SEARCH_2_CLOSED]);
  expect(json.stderr).toMatch(/^replay 100% \(16\/16\)$/m);

  const text = await cli(['rules', 'backtest', file, '--from', iso(0), '--to', iso(HOUR)]);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain('Inputs: 14 · incidents compared: 11 · changed: 5');
  expect(text.stdout).toContain('Inputs from people replayed (Slack and the pager): 2 · acks and resolves with another effect under the candidate: 1');
  expect(text.stdout).toContain(`  am:search-2  ${iso(14 * MINUTE)}  resolved by a person in the pager in the recording; not opened under the candidate`);
  expect(text.stdout).toContain('    channel     #db → #db-critical');
  expect(text.stdout).toContain('    paged       yes → no');
  expect(text.stdout).toMatch(/suppressed: dropped-by-rule\s+0\s+3  \*/);
});
