/**
 * How often a storm summary is updated in place (testdata/rules.storm.yaml: above 3 new incidents in 10 minutes in
 * #alerts): at most once per 1 s slot of event time, by the storm's first change in the slot, and always when its last
 * open incident resolves, so Slack ends up showing the final state.
 */
import type { AnyEnvelope, Envelope } from '@alertbus/schemas';
import { firing, resolved, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { StateIndex } from './neighbours';
import { Replayer } from './replay';

const rules = rulesFrom('rules.storm.yaml');
const init = (name: string, at: number) => ({ at, labels: { team: 'web' }, title: `${name} is down`, severity: 'warning' });
const open = (name: string, at: number) => firing(`am:${name}`, init(name, at));
const close = (name: string, at: number) => resolved(`am:${name}`, init(name, at));

type Summary = { text: string; blocks: Array<{ text?: { text: string } }> };
/** The storm summary a decision posted or updated, if any. */
const summaryOf = (events: AnyEnvelope[]): Summary | undefined =>
  events.find((e) => e.alias.startsWith('storm:') && (e.type === 'UpdateSlackMessage' || e.type === 'PostSlackMessage'))?.data as Summary | undefined;
const listed = (s: Summary) => s.blocks[2]!.text!.text.split('\n');

function play(r: Replayer, inputs: Envelope<'AlertReceived'>[]): AnyEnvelope[][] {
  return inputs.map((i) => r.decide(i).events);
}

/** a1–a3 get threads of their own; a4 (at 300 ms) starts the storm and posts its summary. */
const storm = (r: Replayer) => play(r, [open('a1', 0), open('a2', 100), open('a3', 200), open('a4', 300)]);

test('incidents joining a storm in the slot it was posted in leave the summary alone; the first change in the next slot shows them all', () => {
  const r = new Replayer(rules);
  expect(storm(r)[3]!.some((e) => e.type === 'PostSlackMessage' && e.alias.startsWith('storm:'))).toBe(true);
  const joins = play(r, [open('a5', 400), open('a6', 600), open('a7', 999)]);
  expect(joins.map(summaryOf)).toEqual([undefined, undefined, undefined]);

  const next = summaryOf(r.decide(open('a8', 1_000)).events)!;
  expect(next.text).toBe(`[STORM] Alert storm in #alerts: 5 incidents gathered here since ${new Date(T0 + 300).toISOString()} (5 open)`);
  expect(listed(next)).toEqual(['a4', 'a5', 'a6', 'a7', 'a8'].map((n) => `🔥 ${n} is down (warning) · \`am:${n}\``));
  // The next join in that slot waits again; a resolve in a later slot shows it, and itself.
  expect(summaryOf(r.decide(open('a9', 1_500)).events)).toBeUndefined();
  const resolve = summaryOf(r.decide(close('a5', 2_000)).events)!;
  expect(resolve.text).toContain('6 incidents gathered here');
  expect(resolve.text).toContain('(5 open)');
  expect(listed(resolve)[1]).toBe('✅ a5 is down (warning) · `am:a5`');
});

test("the storm's last open incident resolving updates the summary even in a slot already updated: Slack ends on the final state", () => {
  const r = new Replayer(rules);
  storm(r);
  play(r, [open('a5', 400), open('a6', 500)]);
  // a4 resolving in the next slot updates it; a5 resolving in the same slot does not; a6 is the last open one.
  const out = play(r, [close('a4', 1_000), close('a5', 1_100), close('a6', 1_200)]);
  expect(out.map((d) => summaryOf(d) !== undefined)).toEqual([true, false, true]);
  const final = summaryOf(out[2]!)!;
  expect(final.text).toBe(`[STORM] Alert storm in #alerts: 3 incidents gathered here since ${new Date(T0 + 300).toISOString()} (0 open)`);
  expect(listed(final)).toEqual(['a4', 'a5', 'a6'].map((n) => `✅ ${n} is down (warning) · \`am:${n}\``));
});

test('an index rebuilt from the states alone (as a restarted router restores them) decides the updates the same', () => {
  const live = new Replayer(rules);
  storm(live);
  play(live, [open('a5', 400), close('a5', 600)]);
  const rebuilt = new StateIndex();
  for (const s of live.states.values()) rebuilt.set(s);
  const restored = new Replayer(rules, { states: rebuilt });

  const later = [open('a6', 800), open('a7', 1_200), open('a8', 1_400)];
  const fromLive = play(live, later);
  expect(play(restored, later)).toEqual(fromLive);
  expect(fromLive.map((d) => summaryOf(d) !== undefined)).toEqual([false, true, false]);
});

test('changes older than the storm\'s latest (a partition decided after another) update it every 50th incident, not never', () => {
  const r = new Replayer(rules);
  storm(r);
  // "Partition A": 60 joins in the slot from 2 s; then "partition B": 60 joins from 1 s, older than A's.
  const a = play(r, Array.from({ length: 60 }, (_, i) => open(`pa${i}`, 2_000 + i)));
  const b = play(r, Array.from({ length: 60 }, (_, i) => open(`pb${i}`, 1_000 + i)));
  const counts = [...a, ...b].map(summaryOf).flatMap((s) => (s ? [Number(/: (\d+) incidents/.exec(s.text)![1])] : []));
  // The first change in slot 2, then the 50th and 100th incident gathered; B's older joins take no slot of their own.
  expect(counts).toEqual([2, 50, 100]);
  // Resolving them: every 50th still open, and the last.
  const resolves = play(r, [...Array.from({ length: 60 }, (_, i) => close(`pb${i}`, 3_000 + i)), ...Array.from({ length: 60 }, (_, i) => close(`pa${i}`, 3_100 + i)), close('a4', 3_200)]);
  const open_ = resolves.map(summaryOf).flatMap((s) => (s ? [Number(/\((\d+) open\)/.exec(s.text)![1])] : []));
  expect(open_).toEqual([120, 100, 50, 0]);
});
