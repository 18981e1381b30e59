/**
 * Ticks (router.ticks.v1): time recorded as an input, so a quiet storm's summary shows its last changes without the
 * router reading the clock. testdata/rules.storm.yaml: above 3 new incidents in 10 minutes in #alerts, a summary.
 * A storm of more than 100 incidents leaves the joins after its latest update in a slot unshown; a tick in a later
 * slot than the storm's latest change updates the summary once, and a second tick finds nothing to do.
 */
import { deriveId, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { firing, resolved, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { Replayer } from './replay';
import { STORM_SUMMARY_EXACT_UP_TO } from './storm';
import { stormTick, type TickedStorm } from './storm-tick';

const rules = rulesFrom('rules.storm.yaml');
const init = (name: string, at: number) => ({ at, labels: { team: 'web' }, title: `${name} is down`, severity: 'warning' });
const open = (name: string, at: number) => firing(`am:${name}`, init(name, at));
const close = (name: string, at: number) => resolved(`am:${name}`, init(name, at));

type Summary = { text: string };
const summaries = (events: AnyEnvelope[]) =>
  events.filter((e) => e.alias.startsWith('storm:') && (e.type === 'UpdateSlackMessage' || e.type === 'PostSlackMessage')).map((e) => e.data as Summary);
const countsOf = (s: Summary) => {
  const [, total, open] = /: (\d+) incidents? gathered here since .* \((\d+) open\)$/.exec(s.text)!;
  return { total: Number(total), open: Number(open) };
};
const pad = (i: number) => String(i).padStart(3, '0');

/** The storm the decisions gathered their incidents into, as a tick names it. */
function stormOfEvents(events: AnyEnvelope[]): TickedStorm {
  const s = events.find((e) => e.type === 'EventSuppressed' && e.data.reason === 'storm-control') as Envelope<'EventSuppressed'>;
  const by = s.data.suppressedBy as { summaryIncidentId: string; channel: string; since: string };
  return { summaryIncidentId: by.summaryIncidentId, channel: by.channel, since: by.since };
}

const tickAt = (storm: TickedStorm, at: number) => stormTick(storm, new Date(T0 + at).toISOString(), deriveId('test-tick', at));

/**
 * a1–a3 get threads; a4 (300 ms) starts the storm; `joins` more join it within the same second (301 ms on): past
 * STORM_SUMMARY_EXACT_UP_TO incidents, those in the slot of the latest change leave the summary alone.
 */
function quietStorm(r: Replayer, joins: number) {
  const inputs = [open('a1', 0), open('a2', 100), open('a3', 200), open('a4', 300), ...Array.from({ length: joins }, (_, i) => open(`f${pad(i)}`, 301 + i))];
  const events = inputs.flatMap((i) => r.decide(i).events);
  return { events, storm: stormOfEvents(events) };
}

test('without a tick, a quiet storm of more than 100 incidents shows only its first 100; a tick in a later second shows all of them, once', () => {
  const r = new Replayer(rules);
  const { events, storm } = quietStorm(r, 126);
  const shown = summaries(events);
  expect(countsOf(shown[shown.length - 1]!)).toEqual({ total: STORM_SUMMARY_EXACT_UP_TO, open: STORM_SUMMARY_EXACT_UP_TO });

  const first = r.decide(tickAt(storm, 1_500));
  expect(first.events.map((e) => [e.type, e.alias])).toEqual([['UpdateSlackMessage', `storm:#alerts:${storm.since}`]]);
  expect(countsOf(summaries(first.events)[0]!)).toEqual({ total: 127, open: 127 });
  expect((first.events[0]!.data as { incidentId: string }).incidentId).toBe(storm.summaryIncidentId);
  expect(first.events[0]!.causationId).toBe(tickAt(storm, 1_500).id);

  // Exactly once: the next ticks find it shown as it is.
  expect(r.decide(tickAt(storm, 2_500)).events).toEqual([]);
  expect(r.decide(tickAt(storm, 60_000)).events).toEqual([]);
});

test('a tick in the same second as the storm\'s latest change, or for a storm that shows everything, changes nothing', () => {
  const r = new Replayer(rules);
  const { storm } = quietStorm(r, 126);
  // The latest join was at 426 ms: a tick at 999 ms is in its slot (more may follow in it).
  expect(r.decide(tickAt(storm, 999)).events).toEqual([]);
  // …and did not mark it shown: the next second's tick still updates it.
  expect(summaries(r.decide(tickAt(storm, 1_000)).events).map(countsOf)).toEqual([{ total: 127, open: 127 }]);

  // A storm of at most 100 incidents is updated for every change: a tick has nothing to add.
  const small = new Replayer(rules);
  const s = quietStorm(small, 50);
  expect(small.decide(tickAt(s.storm, 5_000)).events).toEqual([]);
  // A tick for a storm nobody knows (another installation's, or forgotten) changes nothing either.
  expect(new Replayer(rules).decide(tickAt(storm, 5_000)).events).toEqual([]);
});

test('a storm that changes again after a tick gets another one; a storm whose last incident resolved shows its final state without one', () => {
  const r = new Replayer(rules);
  const { storm } = quietStorm(r, 126);
  expect(summaries(r.decide(tickAt(storm, 1_500)).events).map(countsOf)).toEqual([{ total: 127, open: 127 }]);
  // Two more join in a later second: the first updates the summary (first change in its slot), the second does not.
  const joins = [open('g1', 5_000), open('g2', 5_001)].map((i) => summaries(r.decide(i).events).map(countsOf));
  expect(joins).toEqual([[{ total: 128, open: 128 }], []]);
  expect(summaries(r.decide(tickAt(storm, 6_000)).events).map(countsOf)).toEqual([{ total: 129, open: 129 }]);
  expect(r.decide(tickAt(storm, 7_000)).events).toEqual([]);

  // Everything resolves: the last resolve always shows the final state, so a tick after it finds nothing stale.
  const names = ['a4', ...Array.from({ length: 126 }, (_, i) => `f${pad(i)}`), 'g1', 'g2'];
  const resolves = names.map((n, i) => r.decide(close(n, 10_000 + i)).events);
  expect(summaries(resolves[resolves.length - 1]!).map(countsOf)).toEqual([{ total: 129, open: 0 }]);
  expect(r.decide(tickAt(storm, 20_000)).events).toEqual([]);
});

test('replaying the recorded inputs, ticks included, gives byte-identical outputs', () => {
  const inputs = [
    open('a1', 0),
    open('a2', 100),
    open('a3', 200),
    open('a4', 300),
    ...Array.from({ length: 140 }, (_, i) => open(`f${pad(i)}`, 301 + i * 3)),
  ];
  const run = () => {
    const r = new Replayer(rules);
    const out: string[] = [];
    let storm: TickedStorm | undefined;
    for (const i of inputs) {
      const { events } = r.decide(i);
      storm ??= events.some((e) => e.type === 'EventSuppressed') ? stormOfEvents(events) : undefined;
      out.push(JSON.stringify(events));
    }
    for (const at of [700, 1_200, 1_300, 3_000]) out.push(JSON.stringify(r.decide(tickAt(storm!, at)).events));
    out.push(JSON.stringify(r.decide(close('f000', 4_000)).events), JSON.stringify(r.decide(tickAt(storm!, 5_000)).events));
    return out;
  };
  const first = run();
  expect(run()).toEqual(first);
  // The ticks at 1,200 ms and 5,000 ms updated it; the one at 700 ms was in the latest change's slot, the one at 1,300 ms and 3,000 ms had nothing new.
  const ticks = [first[144], first[145], first[146], first[147], first[149]].map((j) => (JSON.parse(j!) as AnyEnvelope[]).length);
  expect(ticks).toEqual([0, 1, 0, 0, 1]);
});
