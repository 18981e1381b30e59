/**
 * Backtesting across silenced sources against real history: a ClusterDown the running router silenced (and one a drop
 * rule dropped) before the window was kept as an inhibitor, and comes back from incidents.v1, so a backtest with the
 * rules in force reports no change for the ServiceDowns it muted in the window, and rules without the inhibit rule
 * report them opened.
 */
import { readFileSync } from 'node:fs';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { compileRules } from '@alertbus/routing';
import { deriveId, makeEnvelope, TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { firing, HOUR, MINUTE, resolved, T0 } from '@alertbus/routing/src/test-support/alerts';
import { rulesFrom, testdataPath } from '@alertbus/routing/src/test-support/scenario';
import { startRouter, type Router } from '../index';
import { backtestFromKafka } from '@alertbus/backtest';

/** Days after the other tests' streams, so no other test's inputs fall in this window. */
const BASE = 3 * 24 * HOUR + 7 * HOUR;
const at = (ms: number) => BASE + ms;
const iso = (ms: number) => new Date(T0 + at(ms)).toISOString();
const RULES = 'rules.inhibit-suppressed.yaml';

const silence = makeEnvelope({
  id: deriveId('silence', 'bt-kept-upgrade', 'created'),
  type: 'SilenceCreated',
  alias: 'silence:bt-kept-upgrade',
  occurredAt: iso(-2 * HOUR),
  recordedAt: iso(-2 * HOUR),
  source: 'history-api',
  data: { silenceId: 'bt-kept-upgrade', matchers: ['alertname="ClusterDown"', 'cluster="bt-eu"'], startsAt: iso(-2 * HOUR), endsAt: iso(2 * HOUR), createdBy: 'ana', comment: 'eu upgrade', kind: 'maintenance' },
});

const EU = 'alertmanager:bt-kept-cluster-eu';
const LAB = 'alertmanager:bt-kept-cluster-lab';
const down = (alias: string, cluster: string, ms: number, n: number, more: Record<string, string> = {}) =>
  firing(alias, { at: at(ms), n, severity: 'critical', title: `ClusterDown ${cluster}`, labels: { alertname: 'ClusterDown', cluster, ...more } });
const service = (alias: string, cluster: string, ms: number) =>
  firing(alias, { at: at(ms), severity: 'warning', title: `ServiceDown ${alias}`, labels: { alertname: 'ServiceDown', cluster } });

const before = [
  down(EU, 'bt-eu', -3 * HOUR, 0), // opens: the maintenance has not begun
  resolved(EU, { at: at(-150 * MINUTE), severity: 'critical', title: 'ClusterDown bt-eu', labels: { alertname: 'ClusterDown', cluster: 'bt-eu' } }),
  down(EU, 'bt-eu', -HOUR, 1), // silenced: kept in front of its resolved incident
  down(EU, 'bt-eu', -10 * MINUTE, 2), // refreshed
  down(LAB, 'bt-lab', -30 * MINUTE, 0, { env: 'lab' }), // dropped by a rule: kept all the same
];
const window = [service('alertmanager:bt-kept-svc-eu', 'bt-eu', MINUTE), service('alertmanager:bt-kept-svc-lab', 'bt-lab', 2 * MINUTE)];

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;
const decisions: AnyEnvelope[][] = [];

beforeAll(async () => {
  kafka = await testKafka('backtest-kept-firing-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'backtest-kept-firing-int-producer' }));
  await producer.connect();
  await producer.send([silence]);
  router = await startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000, rulesPath: testdataPath(RULES) });
  await router.ready;
  // One at a time, each decided before the next: inhibition looks at other aliases.
  for (const input of [...before, ...window]) {
    await producer.send([input]);
    decisions.push(
      await waitFor(
        async () => {
          const d = (await readTopic(kafka, TOPICS.incidents)).map((rec) => rec.event).filter((e): e is AnyEnvelope => e?.causationId === input.id);
          return d.length > 0 ? d : null;
        },
        { timeoutMs: 60_000, what: `the decision on ${input.alias}` },
      ),
    );
  }
}, 180_000);

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

const span = { fromMs: T0 + at(0), toMs: T0 + at(HOUR) };

test('the router kept the silenced and the dropped source (incidents.v1 says what it kept) and muted their targets, kept too', () => {
  const kept = decisions.slice(2).flat().filter((e) => e.type === 'EventSuppressed').map((e) => [e.alias, (e.data as { reason: string }).reason, (e.data as { kept?: { since: string } }).kept?.since]);
  expect(kept).toEqual([
    [EU, 'silenced', iso(-HOUR)],
    [EU, 'silenced', iso(-HOUR)],
    [LAB, 'dropped-by-rule', iso(-30 * MINUTE)],
    // The targets are kept too (to page once nothing inhibits them), each since its own firing.
    ['alertmanager:bt-kept-svc-eu', 'inhibited', iso(MINUTE)],
    ['alertmanager:bt-kept-svc-lab', 'inhibited', iso(2 * MINUTE)],
  ]);
});

test('a backtest with the same rules reports no change for the muted targets', async () => {
  const report = await backtestFromKafka({ kafka, rules: rulesFrom(RULES), ...span });
  expect(report.changes).toEqual([]);
  expect(report.totals).toMatchObject({
    inputs: 2,
    undecided: 0,
    changed: 0,
    actual: { opened: 0, paged: 0, suppressed: { inhibited: 2 } },
    candidate: { opened: 0, paged: 0, suppressed: { inhibited: 2 } },
  });
});

test('a backtest with rules without the inhibit rule reports the muted targets as opened and paged', async () => {
  const text = readFileSync(testdataPath(RULES), 'utf8').replace(/^inhibit:\n(?: {2}.*\n| {4}.*\n)*/m, '');
  const compiled = compileRules(text, 'without-inhibit.yaml', { defaultChannel: '#alerts' });
  if (!compiled.ok) throw new Error(compiled.message);
  const report = await backtestFromKafka({ kafka, rules: compiled.rules, ...span });
  expect(report.changes.map((c) => [c.alias, c.differences.includes('paged'), c.candidate.paged])).toEqual([
    ['alertmanager:bt-kept-svc-eu', true, true],
    ['alertmanager:bt-kept-svc-lab', true, true],
  ]);
  expect(report.totals).toMatchObject({ inputs: 2, changed: 2, candidate: { opened: 2, paged: 2 } });
});
