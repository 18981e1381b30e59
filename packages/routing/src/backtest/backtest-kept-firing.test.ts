/**
 * The backtest starts from the state folded from incidents.v1 before its window: a silenced or dropped source the
 * router kept there as an inhibitor comes back with it (testdata/rules.inhibit-suppressed.yaml), so the same rules
 * report no change for the targets it muted in the window, and rules without the inhibit rule report them opened.
 */
import { deriveId, makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import type { AlertInput } from '../decider';
import { Replayer } from '../core/replay';
import { SilenceBook } from '../core/silences';
import { compileRules } from '../rules/compile';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { rulesFrom, testdataPath } from '../test-support/scenario';
import { readFileSync } from 'node:fs';
import { runBacktest } from './backtest';

const rules = rulesFrom('rules.inhibit-suppressed.yaml');
/** The same file without its inhibit rules. */
const withoutInhibit = (() => {
  const text = readFileSync(testdataPath('rules.inhibit-suppressed.yaml'), 'utf8').replace(/^inhibit:\n(?: {2}.*\n| {4}.*\n)*/m, '');
  const r = compileRules(text, 'without-inhibit.yaml', { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
})();
const iso = (ms: number) => new Date(T0 + ms).toISOString();

/** Maintenance of cluster eu, from two hours before the window to the end of it. */
const maintenance = makeEnvelope({
  id: deriveId('silence', 'eu-upgrade', 'created'),
  type: 'SilenceCreated',
  alias: 'silence:eu-upgrade',
  occurredAt: iso(-2 * HOUR),
  recordedAt: iso(-2 * HOUR),
  source: 'history-api',
  data: { silenceId: 'eu-upgrade', matchers: ['alertname="ClusterDown"', 'cluster="eu"'], startsAt: iso(-2 * HOUR), endsAt: iso(2 * HOUR), createdBy: 'ana', comment: 'eu upgrade', kind: 'maintenance' as const },
});

const EU = 'am:cluster-eu';
const LAB = 'am:cluster-lab';
const down = (alias: string, cluster: string, at: number, n: number, more: Record<string, string> = {}) =>
  firing(alias, { at, n, severity: 'critical', title: `ClusterDown ${cluster}`, labels: { alertname: 'ClusterDown', cluster, ...more } });
const service = (alias: string, cluster: string, at: number) => firing(alias, { at, severity: 'warning', title: `ServiceDown ${alias}`, labels: { alertname: 'ServiceDown', cluster } });

const before: AlertInput[] = [
  // Its earlier occurrence opened and resolved before the maintenance: the kept firing stands in front of it.
  down(EU, 'eu', -3 * HOUR, 0),
  resolved(EU, { at: -150 * MINUTE, severity: 'critical', title: 'ClusterDown eu', labels: { alertname: 'ClusterDown', cluster: 'eu' } }),
  down(EU, 'eu', -HOUR, 1),
  down(EU, 'eu', -10 * MINUTE, 2), // refreshed
  down(LAB, 'lab', -30 * MINUTE, 0, { env: 'lab' }), // dropped by a rule, kept all the same
];
const window: AlertInput[] = [
  service('am:svc-eu-1', 'eu', MINUTE),
  service('am:svc-lab-1', 'lab', 2 * MINUTE),
  service('am:svc-eu-2', 'eu', 3 * MINUTE),
];

function routed(): AnyEnvelope[] {
  const book = new SilenceBook();
  book.apply(maintenance);
  const replayer = new Replayer(rules, { silences: book });
  return [...before, ...window].flatMap((i) => replayer.decide(i).events);
}

const backtest = (candidate: typeof rules, all: AnyEnvelope[]) =>
  runBacktest(candidate, { from: iso(0), to: iso(HOUR) }, {
    silences: [maintenance],
    history: all.filter((e) => e.recordedAt < iso(0)),
    inputs: window,
    actual: all.filter((e) => e.recordedAt >= iso(0)),
  });

test('a silenced and a dropped source kept before the window: the same rules report no change for their targets', async () => {
  const all = routed();
  // What the router did: every target muted by a source that opened nothing.
  expect(all.filter((e) => window.some((w) => w.id === e.causationId)).map((e) => [e.alias, e.type, (e.data as { reason?: string }).reason])).toEqual([
    ['am:svc-eu-1', 'EventSuppressed', 'inhibited'],
    ['am:svc-lab-1', 'EventSuppressed', 'inhibited'],
    ['am:svc-eu-2', 'EventSuppressed', 'inhibited'],
  ]);
  const report = await backtest(rules, all);
  expect(report.changes).toEqual([]);
  expect(report.totals).toMatchObject({ inputs: 3, undecided: 0, changed: 0, candidate: { opened: 0, paged: 0, suppressed: { inhibited: 3 } } });
});

test('rules without the inhibit rule: the targets the kept sources muted are reported as opened and paged', async () => {
  const report = await backtest(withoutInhibit, routed());
  expect(report.changes.map((c) => [c.alias, c.actual.paged, c.candidate.paged, c.candidate.suppressed])).toEqual([
    ['am:svc-eu-1', false, true, []],
    ['am:svc-eu-2', false, true, []],
    ['am:svc-lab-1', false, true, []],
  ]);
  expect(report.totals).toMatchObject({ changed: 3, actual: { opened: 0, suppressed: { inhibited: 3 } }, candidate: { opened: 3, paged: 3 } });
});
