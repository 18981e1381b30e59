/**
 * An incident opened when its inhibition ended (an InhibitionEndedTick on router.ticks.v1) is compared by a backtest as
 * an alert's opening is: the same rules report no change; rules that page elsewhere, or drop the alert, report it.
 */
import { deriveId, type AnyEnvelope } from '@alertbus/schemas';
import { compileRules } from '../rules/compile';
import { Replayer } from '../core/replay';
import { SilenceBook } from '../core/silences';
import { inhibitionEndTick } from '../core/inhibition-end';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import type { BacktestInput } from './backtest';
import { runBacktest } from './backtest';

const rules = rulesFrom('rules.inhibit-suppressed.yaml');
const compiled = (text: string) => {
  const r = compileRules(text, 'candidate.yaml', { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
};
const iso = (ms: number) => new Date(T0 + ms).toISOString();

// Before the window: the cluster went down and muted the checkout service; it came back just before the window.
const cluster = { severity: 'critical' as const, title: 'ClusterDown eu', labels: { alertname: 'ClusterDown', cluster: 'eu' } };
const before = [
  firing('am:cluster-eu', { at: -HOUR, ...cluster }),
  firing('am:checkout', { at: -HOUR + MINUTE, title: 'ServiceDown checkout', labels: { alertname: 'ServiceDown', cluster: 'eu' } }),
  resolved('am:cluster-eu', { at: -MINUTE, ...cluster }),
];
const tick = inhibitionEndTick('am:checkout', 'am:cluster-eu', iso(5_000), deriveId('tick', 'am:checkout'));
const window: BacktestInput[] = [tick];

/** What the router did with `rules`: the service inhibited, then opened and paged by the tick. */
function routed(): AnyEnvelope[] {
  const replayer = new Replayer(rules, { silences: new SilenceBook() });
  return [...before, tick].flatMap((i) => replayer.decide(i).events);
}

const backtest = (candidate: typeof rules, all: AnyEnvelope[]) =>
  runBacktest(candidate, { from: iso(0), to: iso(HOUR) }, {
    silences: [],
    history: all.filter((e) => e.recordedAt < iso(0)),
    inputs: window,
    actual: all.filter((e) => e.recordedAt >= iso(0)),
  });

test('the router opened and paged the firing when its inhibitor resolved; the same rules report no change', async () => {
  const all = routed();
  expect(all.filter((e) => e.alias === 'am:checkout').map((e) => e.type)).toEqual(['EventSuppressed', 'IncidentOpened', 'PostSlackMessage', 'CreatePagerAlert']);
  const report = await backtest(rules, all);
  expect(report.changes).toEqual([]);
  expect(report.totals).toMatchObject({ inputs: 1, undecided: 0, changed: 0, actual: { opened: 1, paged: 1 }, candidate: { opened: 1, paged: 1 } });
});

test('rules that route it elsewhere, or drop it, report the opening the tick made as changed', async () => {
  const head = ['defaults:', '  slack: { channel: "#alerts" }', '  pager: { priority: P2 }', 'rules:', `  - match: ['alertname="ServiceDown"']`];
  const elsewhere = await backtest(compiled([...head, '    slack: { channel: "#checkout" }', '    pager: { priority: P1 }', ''].join('\n')), routed());
  expect(elsewhere.changes).toHaveLength(1);
  expect(elsewhere.changes[0]).toMatchObject({
    alias: 'am:checkout',
    title: 'ServiceDown checkout',
    actual: { channel: '#alerts', priority: 'P2' },
    candidate: { channel: '#checkout', priority: 'P1' },
  });
  const dropped = await backtest(compiled([...head, '    drop: true', ''].join('\n')), routed());
  expect(dropped.changes.map((c) => [c.alias, c.actual.paged, c.candidate.paged])).toEqual([['am:checkout', true, false]]);
  expect(dropped.totals).toMatchObject({ changed: 1, actual: { opened: 1, paged: 1 }, candidate: { opened: 0, paged: 0 } });
});
