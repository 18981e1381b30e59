/**
 * An incident opened when its silence ended (a SilenceEndedTick on router.ticks.v1) is compared by a backtest as an
 * alert's opening is: the same rules report no change; rules that page elsewhere, or drop the alert, report it.
 */
import { deriveId, type AnyEnvelope } from '@alertbus/schemas';
import { compileRules } from '../rules/compile';
import { Replayer } from '../core/replay';
import { SilenceBook } from '../core/silences';
import { silenceEndTick } from '../core/silence-end';
import { firing, HOUR, MINUTE, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { silence } from '../test-support/silences';
import type { BacktestInput } from './backtest';
import { runBacktest } from './backtest';

const rules = rulesFrom('rules.silences.yaml');
const compiled = (text: string) => {
  const r = compileRules(text, 'candidate.yaml', { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
};
const iso = (ms: number) => new Date(T0 + ms).toISOString();

// A maintenance from before the window until 20 minutes into it; the database's disk alert fired under it.
const maintenance = silence('m1', -2 * HOUR, -2 * HOUR, 20 * MINUTE);
const fired = firing('am:db1', { at: -HOUR, title: 'Disk almost full on db1', labels: { team: 'db' } });
const tick = silenceEndTick('am:db1', 'm1', iso(20 * MINUTE + 5_000), deriveId('tick', 'm1', 'am:db1'));
const window: BacktestInput[] = [tick];

/** What the router did with `rules`: the firing silenced, then opened and paged by the tick. */
function routed(): AnyEnvelope[] {
  const book = new SilenceBook();
  book.apply(maintenance);
  const replayer = new Replayer(rules, { silences: book });
  return [fired, tick].flatMap((i) => replayer.decide(i).events);
}

const backtest = (candidate: typeof rules, all: AnyEnvelope[]) =>
  runBacktest(candidate, { from: iso(0), to: iso(HOUR) }, {
    silences: [maintenance],
    history: all.filter((e) => e.recordedAt < iso(0)),
    inputs: window,
    actual: all.filter((e) => e.recordedAt >= iso(0)),
  });

test('the router opened and paged the firing when its silence ended; the same rules report no change', async () => {
  const all = routed();
  expect(all.filter((e) => e.causationId === tick.id).map((e) => e.type)).toEqual(['IncidentOpened', 'PostSlackMessage', 'CreatePagerAlert']);
  const report = await backtest(rules, all);
  expect(report.changes).toEqual([]);
  expect(report.totals).toMatchObject({ inputs: 1, undecided: 0, changed: 0, actual: { opened: 1, paged: 1 }, candidate: { opened: 1, paged: 1 } });
});

test('rules that route it elsewhere, or drop it, report the opening the tick made as changed', async () => {
  const head = ['defaults:', '  slack: { channel: "#alerts" }', '  pager: { priority: P2 }', 'rules:', `  - match: ['team="db"']`];
  const elsewhere = await backtest(compiled([...head, '    slack: { channel: "#db" }', '    pager: { priority: P1 }', ''].join('\n')), routed());
  expect(elsewhere.changes).toHaveLength(1);
  expect(elsewhere.changes[0]).toMatchObject({
    alias: 'am:db1',
    title: 'Disk almost full on db1',
    actual: { channel: '#alerts', priority: 'P2' },
    candidate: { channel: '#db', priority: 'P1' },
  });
  // Dropped: the candidate kept no silenced firing, so its tick decides nothing there.
  const dropped = await backtest(compiled([...head, '    drop: true', ''].join('\n')), routed());
  expect(dropped.changes.map((c) => [c.alias, c.actual.paged, c.candidate.paged])).toEqual([['am:db1', true, false]]);
  expect(dropped.totals).toMatchObject({ changed: 1, actual: { opened: 1, paged: 1 }, candidate: { opened: 0, paged: 0 } });
});
