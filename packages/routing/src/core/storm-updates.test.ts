/**
 * How often a storm summary is updated in place (testdata/rules.storm.yaml: above 3 new incidents in 10 minutes in
 * #alerts): on every change while the storm has gathered at most 100 incidents; beyond that at most once per 1 s slot
 * of event time, by the storm's first change in the slot, every 50th incident, and always when its last open incident
 * resolves, so Slack ends up showing the final state.
 */
import type { AnyEnvelope, Envelope } from '@alertbus/schemas';
import { firing, resolved, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { StateIndex } from './neighbours';
import { Replayer } from './replay';
import { STORM_SUMMARY_EXACT_UP_TO } from './storm';

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

const countsOf = (s: Summary) => {
  const [, total, open] = /: (\d+) incidents? gathered here since .* \((\d+) open\)$/.exec(s.text)!;
  return { total: Number(total), open: Number(open) };
};
const pad = (i: number) => String(i).padStart(3, '0');

/** a1–a3 get threads of their own; a4 (at 300 ms) starts the storm and posts its summary. */
const storm = (r: Replayer) => play(r, [open('a1', 0), open('a2', 100), open('a3', 200), open('a4', 300)]);

/** The names of the incidents a storm past its exact range is filled with, after a4. */
const fillers = Array.from({ length: STORM_SUMMARY_EXACT_UP_TO - 1 }, (_, i) => `f${pad(i + 1)}`);
/** The storm, then as many joins (at 301–399 ms, in the slot it was posted in) as leave it at STORM_SUMMARY_EXACT_UP_TO incidents. */
const bigStorm = (r: Replayer) => [...storm(r), ...play(r, fillers.map((n, i) => open(n, 301 + i)))];

test('a small storm (one webhook of 40 alerts, all in the same instant) updates its summary for every join and every resolve', () => {
  const r = new Replayer(rules);
  const names = Array.from({ length: 40 }, (_, i) => `n${pad(i + 1)}`);
  const joins = play(r, names.map((n) => open(n, 0)));
  // n001–n003 get threads; n004 posts the summary; each of the 36 joining after it updates it, counting itself.
  const summaries = joins.slice(3).map(summaryOf);
  expect(summaries.every((s) => s !== undefined)).toBe(true);
  expect(summaries.map((s) => countsOf(s!).total)).toEqual(Array.from({ length: 37 }, (_, i) => i + 1));
  const last = summaries[36]!;
  expect(last.text).toBe(`[STORM] Alert storm in #alerts: 37 incidents gathered here since ${new Date(T0).toISOString()} (37 open)`);
  expect(listed(last)).toEqual(names.slice(3).map((n) => `🔥 ${n} is down (warning) · \`am:${n}\``));

  // All resolve in the same instant (hours later): each shows itself resolved.
  const resolves = play(r, names.slice(3).map((n) => close(n, 3 * 3_600_000)));
  expect(resolves.map((d) => countsOf(summaryOf(d)!).open)).toEqual(Array.from({ length: 37 }, (_, i) => 36 - i));
  expect(listed(summaryOf(resolves[36]!)!)).toEqual(names.slice(3).map((n) => `✅ ${n} is down (warning) · \`am:${n}\``));
});

test(`past ${STORM_SUMMARY_EXACT_UP_TO} incidents, joins in the slot of the storm's latest change leave the summary alone; the first change in the next slot shows them all`, () => {
  const r = new Replayer(rules);
  const filled = bigStorm(r);
  expect(filled[3]!.some((e) => e.type === 'PostSlackMessage' && e.alias.startsWith('storm:'))).toBe(true);
  // Up to STORM_SUMMARY_EXACT_UP_TO incidents, every join in the slot updated it.
  expect(filled.slice(4).map((d) => countsOf(summaryOf(d)!).total)).toEqual(Array.from({ length: fillers.length }, (_, i) => i + 2));
  const joins = play(r, [open('a5', 400), open('a6', 600), open('a7', 999)]);
  expect(joins.map(summaryOf)).toEqual([undefined, undefined, undefined]);

  const next = summaryOf(r.decide(open('a8', 1_000)).events)!;
  expect(next.text).toBe(`[STORM] Alert storm in #alerts: 104 incidents gathered here since ${new Date(T0 + 300).toISOString()} (104 open)`);
  // The next join in that slot waits again; a resolve in a later slot shows it, and itself.
  expect(summaryOf(r.decide(open('a9', 1_500)).events)).toBeUndefined();
  const resolve = summaryOf(r.decide(close('f001', 2_000)).events)!;
  expect(countsOf(resolve)).toEqual({ total: 105, open: 104 });
  expect(listed(resolve).slice(0, 3)).toEqual(['🔥 a4 is down (warning) · `am:a4`', '✅ f001 is down (warning) · `am:f001`', '🔥 f002 is down (warning) · `am:f002`']);
});

test("the storm's last open incident resolving updates the summary even in a slot already updated: Slack ends on the final state", () => {
  const r = new Replayer(rules);
  bigStorm(r);
  play(r, [open('a5', 400), open('a6', 500)]);
  // All 102 resolve in the next slot, a6 last: its first resolve, the 100th and 50th still open, and the last update it.
  const out = play(r, ['a4', ...fillers, 'a5', 'a6'].map((n, i) => close(n, 1_000 + i)));
  const updated = out.flatMap((d, i) => (summaryOf(d) ? [i] : []));
  expect(updated.map((i) => countsOf(summaryOf(out[i]!)!).open)).toEqual([101, 100, 50, 0]);
  expect(updated.at(-1)).toBe(101);
  const final = summaryOf(out[101]!)!;
  expect(final.text).toBe(`[STORM] Alert storm in #alerts: 102 incidents gathered here since ${new Date(T0 + 300).toISOString()} (0 open)`);
  // Every member listed shows resolved; those that do not fit are counted.
  const lines = listed(final);
  const more = Number(/^…and (\d+) more$/.exec(lines.at(-1)!)![1]);
  expect(lines.slice(0, -1).every((l) => l.startsWith('✅ '))).toBe(true);
  expect(lines.length - 1 + more).toBe(102);
});

test('an index rebuilt from the states alone (as a restarted router restores them) decides the updates the same', () => {
  const live = new Replayer(rules);
  bigStorm(live);
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
  bigStorm(r);
  // "Partition A": 60 joins in the slot from 2 s; then "partition B": 60 joins from 1 s, older than A's.
  const a = play(r, Array.from({ length: 60 }, (_, i) => open(`pa${i}`, 2_000 + i)));
  const b = play(r, Array.from({ length: 60 }, (_, i) => open(`pb${i}`, 1_000 + i)));
  const counts = [...a, ...b].map(summaryOf).flatMap((s) => (s ? [countsOf(s).total] : []));
  // The first change in slot 2, then the 150th and 200th incident gathered; B's older joins take no slot of their own.
  expect(counts).toEqual([101, 150, 200]);
  // Resolving them all in slot 3: its first change, every 50th still open, and the last.
  const resolves = play(r, [
    ...Array.from({ length: 60 }, (_, i) => close(`pb${i}`, 3_000 + i)),
    ...Array.from({ length: 60 }, (_, i) => close(`pa${i}`, 3_100 + i)),
    ...fillers.map((n, i) => close(n, 3_200 + i)),
    close('a4', 3_400),
  ]);
  const open_ = resolves.map(summaryOf).flatMap((s) => (s ? [countsOf(s).open] : []));
  expect(open_).toEqual([219, 200, 150, 100, 50, 0]);
});
