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
import { formatBacktest } from './format';

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

/**
 * A candidate that inhibits what the router did not: its own ticker frees the targets it mutes once their inhibitor
 * resolves, as the router's would, so the report counts their pages (it never paged them before: it replayed only the
 * recording's ticks, and the router had kept nothing to tick).
 */
describe("the candidate's own inhibition ends", () => {
  /** Rules with these inhibit rules (source alertname, target alertname regex, the `equal` label) and no others. */
  const inhibiting = (inhibit: Array<[string, string, string]>) =>
    compiled(
      [
        'defaults:',
        '  slack: { channel: "#alerts" }',
        '  pager: { priority: P2 }',
        ...(inhibit.length ? ['inhibit:'] : []),
        ...inhibit.flatMap(([source, target, equal]) => [
          `  - source_match: ['alertname="${source}"']`,
          `    target_match: ['alertname=~"${target}"']`,
          `    equal: [${equal}]`,
        ]),
        'rules: []',
        '',
      ].join('\n'),
    );
  const noInhibit = inhibiting([]);
  const service = { title: 'ServiceDown checkout', labels: { alertname: 'ServiceDown', cluster: 'eu' } };
  // The whole outage in the window: the cluster goes down, the service follows, the cluster comes back at +10 min.
  const outage: BacktestInput[] = [
    firing('am:cluster-eu', { at: MINUTE, ...cluster }),
    firing('am:checkout', { at: 2 * MINUTE, ...service }),
    resolved('am:cluster-eu', { at: 10 * MINUTE, ...cluster }),
  ];
  /** What the router wrote deciding `inputs` with `live` rules (the recording). */
  const recording = (live: typeof rules, inputs: BacktestInput[]) => {
    const replayer = new Replayer(live, { silences: new SilenceBook() });
    return inputs.flatMap((i) => replayer.decide(i).events);
  };
  const run = (candidate: typeof rules, inputs: BacktestInput[], actual: AnyEnvelope[], to = iso(HOUR)) =>
    runBacktest(candidate, { from: iso(0), to }, { silences: [], history: [], inputs, actual });
  const liveTick = (afterResolveMs: number) =>
    inhibitionEndTick('am:checkout', 'am:cluster-eu', iso(10 * MINUTE + afterResolveMs), deriveId('live-tick', afterResolveMs));

  test('a candidate that adds the inhibit rule pages the service when the cluster resolves: muted, then paged, not "never paged"', async () => {
    const report = await run(rules, outage, recording(noInhibit, outage));
    expect(report.totals).toMatchObject({
      inputs: 3,
      undecided: 0,
      candidateInhibitionEnds: 1,
      actual: { opened: 2, paged: 2 },
      candidate: { opened: 2, paged: 2, suppressed: { inhibited: 1 } },
    });
    // One change for the service (its firing and the tick that paged it are one story), not a page lost and one gained.
    expect(report.changes).toHaveLength(1);
    expect(report.changes[0]).toMatchObject({
      alias: 'am:checkout',
      inputs: 2,
      differences: ['suppressed'],
      actual: { paged: true, suppressed: [] },
      candidate: { paged: true, channel: '#alerts', priority: 'P2', suppressed: ['inhibited'] },
    });
    expect(formatBacktest(report, 'candidate.yaml')).toContain("Inhibition ends of firings only the candidate kept inhibited (the router's ticker replayed over them): 1");
  });

  test('the same rules, the router ticking within its interval: its tick is replayed, the candidate writes none, no change', async () => {
    const inputs = [...outage, liveTick(3_000)];
    const report = await run(rules, inputs, recording(rules, inputs));
    expect(report.totals).toMatchObject({ inputs: 4, undecided: 0, changed: 0, candidateInhibitionEnds: 0, actual: { paged: 2 }, candidate: { paged: 2 } });
    expect(report.changes).toEqual([]);
  });

  test('the same rules write no tick of their own, however late the router ticked, or if it never did before the service resolved or the window ended', async () => {
    // Ticked 40 s after the resolve (a busy router): replayed then.
    const late = [...outage, liveTick(40_000)];
    const lateReport = await run(rules, late, recording(rules, late));
    expect(lateReport.totals).toMatchObject({ inputs: 4, changed: 0, candidateInhibitionEnds: 0, actual: { opened: 2, paged: 2 }, candidate: { opened: 2, paged: 2 } });
    // The service resolved 20 s after the cluster, before the router ticked: nobody was paged for it, nor is under the candidate.
    const resolvedFirst = [...outage, resolved('am:checkout', { at: 10 * MINUTE + 20_000, ...service })];
    const resolvedReport = await run(rules, resolvedFirst, recording(rules, resolvedFirst));
    expect(resolvedReport.totals).toMatchObject({ changed: 0, candidateInhibitionEnds: 0, actual: { paged: 1 }, candidate: { paged: 1 } });
    // The window ends 8 s after the resolve, before the router's tick (at +9 s, left out as outside the window).
    const endsEarly = await run(rules, outage, recording(rules, [...outage, liveTick(9_000)]), iso(10 * MINUTE + 8_000));
    expect(endsEarly.totals).toMatchObject({ changed: 0, candidateInhibitionEnds: 0, candidate: { paged: 1 } });
  });

  // Two inhibitors for the service: its region (down first) and its cluster (down, then back at +10 min).
  const byRegion = inhibiting([['RegionDown', 'ServiceDown', 'region']]);
  const region = { severity: 'critical' as const, title: 'RegionDown west', labels: { alertname: 'RegionDown', region: 'west' } };
  const regionAndCluster: BacktestInput[] = [
    firing('am:region-west', { at: MINUTE / 2, ...region }),
    firing('am:cluster-eu', { at: MINUTE, ...cluster }),
    firing('am:checkout', { at: 2 * MINUTE, title: 'ServiceDown checkout', labels: { alertname: 'ServiceDown', cluster: 'eu', region: 'west' } }),
    resolved('am:cluster-eu', { at: 10 * MINUTE, ...cluster }),
  ];

  test('a candidate that mutes the service under another inhibitor: the recorded tick decides it again (still muted), its own ticker pages it when that one resolves; one story, not a page lost and one gained', async () => {
    const inputs: BacktestInput[] = [...regionAndCluster, liveTick(3_000), resolved('am:region-west', { at: 20 * MINUTE, ...region })];
    const report = await run(byRegion, inputs, recording(rules, inputs));
    expect(report.totals).toMatchObject({ inputs: 6, candidateInhibitionEnds: 1, actual: { paged: 3 }, candidate: { paged: 3 } });
    // Muted both times and paged both times: the same outcome for the service (paged ten minutes later under the candidate).
    expect(report.changes.filter((c) => c.alias === 'am:checkout')).toEqual([]);
  });

  test("the router muted the service under another inhibitor, which never resolved: the candidate's own tick pages it when its inhibitor resolves", async () => {
    const inputs = regionAndCluster;
    // The router ran the region rule: the service stays muted; the candidate (the cluster rule) frees it at +10 min.
    const report = await run(rules, inputs, recording(byRegion, inputs));
    expect(report.totals).toMatchObject({ candidateInhibitionEnds: 1, actual: { paged: 2 }, candidate: { paged: 3 } });
    expect(report.changes.map((c) => [c.alias, c.actual.paged, c.candidate.paged])).toEqual([['am:checkout', false, true]]);
  });

  test("a chain across the two: the router's node waits for the router's late tick, the candidate's pod waits for the node, and is not paged", async () => {
    const routerRules = inhibiting([['ClusterDown', 'NodeDown', 'cluster']]);
    const candidateRules = inhibiting([
      ['ClusterDown', 'NodeDown|PodDown', 'cluster'],
      ['NodeDown', 'PodDown', 'cluster'],
    ]);
    const node = { title: 'NodeDown node-1', labels: { alertname: 'NodeDown', cluster: 'eu' } };
    const inputs: BacktestInput[] = [
      firing('am:cluster-eu', { at: MINUTE, ...cluster }),
      firing('am:pod-1', { at: 2 * MINUTE, title: 'PodDown pod-1', labels: { alertname: 'PodDown', cluster: 'eu' } }),
      firing('am:node-1', { at: 3 * MINUTE, ...node }),
      resolved('am:cluster-eu', { at: 10 * MINUTE, ...cluster }),
      // The router's tick for its node, 7 s after the resolve: later than the candidate's ticker would look.
      inhibitionEndTick('am:node-1', 'am:cluster-eu', iso(10 * MINUTE + 7_000), deriveId('live-tick', 'node')),
    ];
    const report = await run(candidateRules, inputs, recording(routerRules, inputs));
    expect(report.totals).toMatchObject({ candidateInhibitionEnds: 0, actual: { paged: 3 }, candidate: { paged: 2 } });
    expect(report.changes.map((c) => [c.alias, c.actual.paged, c.candidate.paged])).toEqual([['am:pod-1', true, false]]);
  });

  test('the same rules, the service not decided yet by the router while the resolve was: no tick of its own, nothing reported for it', async () => {
    const all = recording(rules, outage);
    const report = await run(rules, outage, all.filter((e) => e.causationId !== outage[1]!.id));
    expect(report.totals).toMatchObject({ undecided: 1, changed: 0, candidateInhibitionEnds: 0 });
  });

  test('a chain of inhibit rules in the candidate pages from the top down: the node when the cluster resolves, not the pod it mutes', async () => {
    const chain = inhibiting([
      ['ClusterDown', 'NodeDown|PodDown', 'cluster'],
      ['NodeDown', 'PodDown', 'cluster'],
    ]);
    const inputs: BacktestInput[] = [
      firing('am:cluster-eu', { at: MINUTE, ...cluster }),
      firing('am:node-1', { at: 2 * MINUTE, title: 'NodeDown node-1', labels: { alertname: 'NodeDown', cluster: 'eu' } }),
      firing('am:pod-1', { at: 3 * MINUTE, title: 'PodDown pod-1', labels: { alertname: 'PodDown', cluster: 'eu' } }),
      resolved('am:cluster-eu', { at: 10 * MINUTE, ...cluster }),
    ];
    const report = await run(chain, inputs, recording(noInhibit, inputs));
    expect(report.totals).toMatchObject({ candidateInhibitionEnds: 1, actual: { paged: 3 }, candidate: { paged: 2, suppressed: { inhibited: 2 } } });
    expect(report.changes.map((c) => [c.alias, c.actual.paged, c.candidate.paged])).toEqual([
      ['am:node-1', true, true],
      ['am:pod-1', true, false],
    ]);
  });

  test('no tick for a service resolved before the candidate would tick, nor for a resolve the router had not decided, nor one too late for the window', async () => {
    const quickResolve = [...outage, resolved('am:checkout', { at: 10 * MINUTE + 2_000, ...service })];
    const resolvedFirst = await run(rules, quickResolve, recording(noInhibit, quickResolve));
    expect(resolvedFirst.totals).toMatchObject({ candidateInhibitionEnds: 0, candidate: { opened: 1, paged: 1 } });
    // The router's outputs for the cluster's resolve are not in the recording (not decided yet): nothing freed is compared.
    const all = recording(noInhibit, outage);
    const undecided = await run(rules, outage, all.filter((e) => e.causationId !== outage[2]!.id));
    expect(undecided.totals).toMatchObject({ inputs: 3, undecided: 1, candidateInhibitionEnds: 0, candidate: { paged: 1 } });
    // The window ends before one ticker interval after the resolve.
    const short = await run(rules, outage, all, iso(10 * MINUTE + 3_000));
    expect(short.totals).toMatchObject({ candidateInhibitionEnds: 0, candidate: { paged: 1 } });
  });
});
