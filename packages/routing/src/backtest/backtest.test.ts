/** The backtest core over injected streams: what rules B would have changed against what rules A did. */
import type { AnyEnvelope, Envelope } from '@alertbus/schemas';
import { Replayer } from '../core/replay';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { runBacktest } from './backtest';
import { mergeByRecordedAt } from './merge';

const A = rulesFrom('rules.backtest-a.yaml');
const B = rulesFrom('rules.backtest-b.yaml');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

const f = (alias: string, team: string, severity: string, at: number, n = 0) => firing(alias, { at, n, severity, labels: { team } });
const r = (alias: string, team: string, severity: string, at: number) => resolved(alias, { at, severity, labels: { team } });

/** Before the window: db-crit fired already (open), so in the window it only repeats. */
const before = [f('am:db-crit-old', 'db', 'critical', -HOUR)];
const window = [
  f('am:db-crit', 'db', 'critical', 0), // changes: channel #db → #db-critical, P2 → P1
  f('am:db-warn', 'db', 'warning', MINUTE), // unchanged
  f('am:search', 'search', 'warning', 2 * MINUTE), // changes: paged → dropped
  f('am:web', 'web', 'critical', 3 * MINUTE), // unchanged
  f('am:db-crit', 'db', 'critical', 4 * MINUTE, 1), // a repeat: same incident
  r('am:search', 'search', 'warning', 5 * MINUTE), // resolve of the dropped one: resolved vs resolved-without-open-incident
  // Opened before the window under A (paged P2): a repeat either way (state folded); under B, which routes it to P1,
  // the repeat raises its page to P1 (a priority command, a note and a reply in its thread).
  f('am:db-crit-old', 'db', 'critical', 6 * MINUTE),
  r('am:db-crit', 'db', 'critical', 7 * MINUTE),
];

/** What the router did with rules A: every output of every input, history included. */
function routedWith(inputs: Envelope<'AlertReceived'>[]): AnyEnvelope[] {
  const replayer = new Replayer(A);
  return inputs.flatMap((i) => replayer.decide(i).events);
}

test('reports exactly the incidents whose outcome differs, per incident and in total', async () => {
  const all = routedWith([...before, ...window]);
  const history = all.filter((e) => e.recordedAt < iso(0));
  const actual = all.filter((e) => e.recordedAt >= iso(0));
  const report = await runBacktest(B, { from: iso(0), to: iso(HOUR) }, { silences: [], history, inputs: window, actual });

  expect(report.changes.map((c) => [c.alias, c.differences])).toEqual([
    ['am:db-crit', ['channel', 'priority', 'messages']],
    ['am:db-crit-old', ['priority', 'messages']],
    ['am:search', ['channel', 'priority', 'paged', 'suppressed', 'messages']],
  ]);
  const dbCrit = report.changes[0]!;
  expect(dbCrit.actual).toEqual({ channel: '#db', priority: 'P2', paged: true, suppressed: [], messages: { '#db': 2 } });
  expect(dbCrit.candidate).toEqual({ channel: '#db-critical', priority: 'P1', paged: true, suppressed: [], messages: { '#db-critical': 2 } });
  expect(dbCrit.inputs).toBe(3);
  const dbCritOld = report.changes[1]!;
  // Paged P2 before the window: under B its repeat raises the page to P1, with a reply in its thread.
  expect(dbCritOld.actual).toMatchObject({ priority: null, paged: false, messages: {} });
  expect(dbCritOld.candidate).toMatchObject({ priority: "P1", paged: false, messages: { "#db": 1 } });
  const search = report.changes[2]!;
  expect(search.actual).toMatchObject({ channel: '#alerts', paged: true, suppressed: [] });
  expect(search.candidate).toEqual({ channel: null, priority: null, paged: false, suppressed: ['dropped-by-rule', 'resolved-without-open-incident'], messages: {} });
  expect(report.totals).toMatchObject({
    inputs: 8,
    undecided: 0,
    incidents: 5,
    changed: 3,
    changedBy: { channel: 2, priority: 3, paged: 1, suppressed: 1, messages: 3 },
    actual: { opened: 4, paged: 4, byPriority: { P2: 2, P3: 2 }, suppressed: {}, messages: { '#alerts': 3, '#db': 3 } },
    candidate: { opened: 3, paged: 3, byPriority: { P1: 1, P2: 1, P3: 1 }, suppressed: { 'dropped-by-rule': 1, 'resolved-without-open-incident': 1 }, messages: { '#alerts': 1, '#db': 2, '#db-critical': 2 } },
  });
  expect(report.candidate.rulesVersion).toBe(B.version);
  expect(report.actualRulesVersions).toEqual([A.version]);
});

test('the same rules report no change; inputs without an actual decision are counted as undecided', async () => {
  const all = routedWith([...before, ...window]);
  const actual = all.filter((e) => e.recordedAt >= iso(0) && e.causationId !== window[7]!.id);
  const report = await runBacktest(A, { from: iso(0), to: iso(HOUR) }, {
    silences: [],
    history: all.filter((e) => e.recordedAt < iso(0)),
    inputs: window,
    actual,
  });
  expect(report.changes).toEqual([]);
  expect(report.totals).toMatchObject({ inputs: 8, undecided: 1, changed: 0 });
});

test('per-partition inputs merge by recordedAt without reordering a partition', () => {
  const at = (ms: number, tag: string) => ({ recordedAt: iso(ms), tag });
  const merged = mergeByRecordedAt(
    new Map([
      [1, [at(0, 'p1-a'), at(5, 'p1-b'), at(3, 'p1-c')]],
      [0, [at(1, 'p0-a'), at(4, 'p0-b')]],
    ]),
  );
  expect(merged.map((m) => m.tag)).toEqual(['p1-a', 'p0-a', 'p0-b', 'p1-b', 'p1-c']);
});
