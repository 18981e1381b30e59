/**
 * The backtest starts from the state folded from incidents.v1 before its window: the resolves kept there (a resolve
 * before its firing, a sender's resolve after a person's) come back with it, so the same rules report no change for a
 * late copy at the window's start.
 */
import type { AnyEnvelope } from '@alertbus/schemas';
import { Replayer } from '../core/replay';
import { builtinRules } from '../rules/compile';
import { HOUR, T0 } from '../test-support/alerts';
import { lateCopiesAroundWindow } from '../test-support/late-copies';
import { runBacktest } from './backtest';

const rules = builtinRules({ defaultChannel: '#alerts' });
const iso = (ms: number) => new Date(T0 + ms).toISOString();
/** Resolved before its firing came: the resolve is kept under the alias. */
const KEPT = 'alertmanager:kept';
/** Resolved by a person, then by its sender. */
const BOTH = 'alertmanager:both';
const { before, window } = lateCopiesAroundWindow({ kept: KEPT, both: BOTH });

test('a late copy at the window\'s start: the same rules report no change, and neither side opens it', async () => {
  const replayer = new Replayer(rules);
  const all: AnyEnvelope[] = [...before, ...window].flatMap((i) => replayer.decide(i).events);
  // What the router did: both copies opened nothing.
  expect(all.filter((e) => window.some((w) => w.id === e.causationId)).map((e) => [e.alias, e.type, (e.data as { reason?: string }).reason])).toEqual([
    [KEPT, 'EventSuppressed', 'occurrence-already-resolved'],
    [BOTH, 'EventSuppressed', 'occurrence-already-resolved'],
  ]);
  const report = await runBacktest(rules, { from: iso(0), to: iso(HOUR) }, {
    silences: [],
    history: all.filter((e) => e.recordedAt < iso(0)),
    inputs: window,
    actual: all.filter((e) => e.recordedAt >= iso(0)),
  });
  expect(report.changes).toEqual([]);
  expect(report.totals).toMatchObject({
    inputs: 2,
    undecided: 0,
    changed: 0,
    candidate: { opened: 0, paged: 0, suppressed: { 'occurrence-already-resolved': 2 } },
  });
});
