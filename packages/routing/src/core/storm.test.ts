/** Storm control (testdata/rules.storm.yaml): above 3 new incidents in 10 minutes, further ones go into one summary. */
import { deriveId, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { firing, HOUR, MINUTE, resolved, T0 } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { builtinRules } from '../rules/compile';
import { DEFAULT_STATE_RETENTION_MS } from './expiry';
import { StateIndex } from './neighbours';
import { Replayer } from './replay';
import { stormLimitsFor, stormOf } from './storm';

const rules = rulesFrom('rules.storm.yaml');
const iso = (at: number) => new Date(T0 + at).toISOString();
const open = (name: string, at: number, team = 'web') => firing(`am:${name}`, { at, labels: { team }, title: `${name} is down`, severity: 'warning' });
const close = (name: string, at: number, team = 'web') => resolved(`am:${name}`, { at, labels: { team }, title: `${name} is down`, severity: 'warning' });

const posted = ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3'];

function play(r: Replayer, inputs: Envelope<'AlertReceived'>[]): AnyEnvelope[][] {
  return inputs.map((i) => r.decide(i).events);
}

describe('storm control (rules.storm.yaml)', () => {
  test('the 4th new incident within 10 minutes starts a summary; the 5th updates it; a resolve updates it; calm posts again', () => {
    const r = new Replayer(rules);
    const out = play(r, [open('a1', 0), open('a2', MINUTE), open('a3', 2 * MINUTE), open('a4', 3 * MINUTE), open('a5', 4 * MINUTE), close('a4', 5 * MINUTE), open('a6', 30 * MINUTE), open('a5', 5 * HOUR)]);
    const storm = { id: deriveId('storm', '#alerts', iso(3 * MINUTE)), alias: `storm:#alerts:${iso(3 * MINUTE)}` };

    expect(out.slice(0, 3).map((d) => d.map(brief))).toEqual([posted, posted, posted]);
    // 4th: opened, but gathered: no thread of its own, the summary is posted instead; the storm's one page is created.
    expect(out[3]!.map(brief)).toEqual(['IncidentOpened:first-notification', 'EventSuppressed:storm-control', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3']);
    expect(out[3]![0]!.data).not.toHaveProperty('slack');
    expect(out[3]![1]!.data).toMatchObject({
      incidentId: (out[3]![0]!.data as { incidentId: string }).incidentId,
      suppressedBy: { kind: 'storm', channel: '#alerts', summaryIncidentId: storm.id, since: iso(3 * MINUTE), threshold: 3, window: '10m' },
    });
    expect(out[3]![2]).toMatchObject({ alias: storm.alias, data: { incidentId: storm.id, purpose: 'root' } });
    expect(out[3]![3]).toMatchObject({ alias: storm.alias, data: { incidentId: storm.id } });
    // 5th: the summary is updated in place and lists both; the storm's page is noted (its count doubled).
    expect(out[4]!.map(brief)).toEqual(['IncidentOpened:first-notification', 'EventSuppressed:storm-control', 'UpdateSlackMessage', 'AddPagerNote']);
    const update = out[4]![2]!.data as { incidentId: string; text: string; blocks: Array<{ text?: { text: string } }> };
    expect(update.incidentId).toBe(storm.id);
    expect(update.text).toBe(`[STORM] Alert storm in #alerts: 2 incidents gathered here since ${iso(3 * MINUTE)} (2 open)`);
    expect(update.blocks[2]!.text!.text.split('\n')).toEqual(['🔥 a4 is down (warning) · `am:a4`', '🔥 a5 is down (warning) · `am:a5`']);
    // A gathered incident resolves: no thread to reply in, the summary shows it resolved; the storm's page stays
    // open while a5 is.
    expect(out[5]!.map(brief)).toEqual(['IncidentResolved:resolved', 'UpdateSlackMessage']);
    expect((out[5]![1]!.data as { blocks: Array<{ text?: { text: string } }> }).blocks[2]!.text!.text).toContain('✅ a4 is down');
    // Calm again: its own thread.
    expect(out[6]!.map(brief)).toEqual(posted);
    // A gathered incident re-notified after its interval has no thread: counted, nothing posted.
    expect(out[7]!.map(brief)).toEqual(['IncidentRepeated:repeat-interval-elapsed']);
    expect(r.state('am:a4')?.storm).toEqual({ id: storm.id, channel: '#alerts', since: iso(3 * MINUTE), threshold: 3, window: '10m', pageGrouped: true, pagePriority: 'P3' });
  });

  test('a later storm gets a new summary', () => {
    const r = new Replayer(rules);
    play(r, [open('a1', 0), open('a2', MINUTE), open('a3', 2 * MINUTE), open('a4', 3 * MINUTE)]);
    const later = play(r, [open('b1', 60 * MINUTE), open('b2', 61 * MINUTE), open('b3', 62 * MINUTE), open('b4', 63 * MINUTE)]);
    expect(later.slice(0, 3).map((d) => d.map(brief))).toEqual([posted, posted, posted]);
    expect(later[3]!.map(brief)).toContain('PostSlackMessage:root:#alerts');
    expect(later[3]![2]!.data).toMatchObject({ incidentId: deriveId('storm', '#alerts', iso(63 * MINUTE)), purpose: 'root' });
  });

  test('per-channel limits: #db storms above 1 per minute; #quiet never storms', () => {
    const db = play(new Replayer(rules), [open('d1', 0, 'db'), open('d2', 30_000, 'db'), open('d3', 2 * MINUTE, 'db')]);
    expect(db.map((d) => d.map(brief)[1])).toEqual(['PostSlackMessage:root:#db', 'EventSuppressed:storm-control', 'PostSlackMessage:root:#db']);
    expect(db[1]![2]).toMatchObject({ data: { purpose: 'root', incidentId: deriveId('storm', '#db', iso(30_000)) } });
    const quiet = play(new Replayer(rules), [0, 1, 2, 3, 4, 5].map((i) => open(`q${i}`, i * 1000, 'quiet')));
    expect(quiet.map((d) => d.map(brief)[1])).toEqual(Array(6).fill('PostSlackMessage:root:#quiet'));
  });

  test('channels count separately', () => {
    const out = play(new Replayer(rules), [open('a1', 0), open('a2', 1000), open('a3', 2000), open('q1', 3000, 'quiet'), open('a4', 4000)]);
    expect(out[3]!.map(brief)[1]).toBe('PostSlackMessage:root:#quiet');
    expect(out[4]!.map(brief)[1]).toBe('EventSuppressed:storm-control');
  });
});

test('a channel spelt like an Object.prototype member takes the file\'s limits, not a function', () => {
  const rules = builtinRules({ defaultChannel: 'constructor' });
  for (const channel of ['constructor', 'toString', '__proto__']) {
    expect(stormLimitsFor(rules, channel)).toBe(rules.stormControl);
  }
});

describe('a storm costs the same per alert however large it grows', () => {
  test('2,000 new incidents in one channel within the window: each decision looks at a bounded number of indexed incidents', () => {
    const states = new StateIndex();
    const r = new Replayer(rules, { states, retentionMs: DEFAULT_STATE_RETENTION_MS });
    const work: number[] = [];
    let last: AnyEnvelope[] = [];
    for (let i = 0; i < 2_000; i++) {
      const before = states.visited;
      last = r.decide(open(`s${i}`, i * 100)).events;
      work.push(states.visited - before);
    }
    // Resolving members (s3 on: s0–s2 have threads) updates the same summary, at the same cost.
    for (let i = 0; i < 200; i++) {
      const before = states.visited;
      const events = r.decide(close(`s${i + 3}`, 200_000 + i * 100)).events;
      if (i === 0) last = events;
      work.push(states.visited - before);
    }
    // The first resolve is the storm's first change in a new slot of event time: it shows every member.
    expect(last.map(brief)).toEqual(['IncidentResolved:resolved', 'UpdateSlackMessage']);
    const summary = last[1]!.data as { text: string; blocks: Array<{ text?: { text: string } }> };
    expect(summary.text).toContain('1997 incidents gathered here');
    expect(summary.blocks[2]!.text!.text).toMatch(/…and \d+ more$/);
    // The summary lists what fits in one message and counts the rest: a walk over every member would be ≥ 1,997.
    expect(Math.max(...work)).toBeLessThan(150);
    expect(Math.max(...work.slice(1_800, 2_000))).toBeLessThanOrEqual(Math.max(...work.slice(100, 300)));
  });
});

describe('storm control is on in the built-in rules (no ROUTING_RULES)', () => {
  const builtin = builtinRules({ defaultChannel: '#alerts' });

  test('200 new incidents two a second in one channel: 30 threads, then one summary updated for each of its first 100, then once a second', () => {
    const r = new Replayer(builtin);
    const out = Array.from({ length: 200 }, (_, i) => r.decide(open(`m${i}`, i * 500)).events);
    const posts = out.flat().filter((e) => e.type === 'PostSlackMessage');
    const updates = out.flat().filter((e) => e.type === 'UpdateSlackMessage');
    expect(posts).toHaveLength(31);
    expect(posts.filter((e) => e.alias.startsWith('storm:'))).toHaveLength(1);
    // 170 incidents join from 15 s to 99.5 s: posted at 15 s; updated by each of the next 99 (to 64.5 s: the storm has
    // gathered at most 100); then by the first to join at 65 s, 66 s, … 99 s, and by the 150th (at 89.5 s).
    const at = [...Array.from({ length: 99 }, (_, i) => 15_500 + i * 500), ...Array.from({ length: 35 }, (_, i) => (65 + i) * 1000), 89_500].sort((x, y) => x - y);
    expect(updates.map((e) => e.recordedAt)).toEqual(at.map(iso));
    expect(updates.map((e) => Number((e.data as { text: string }).text.match(/: (\d+) incidents/)![1]))).toEqual(at.map((ms) => Math.floor((ms - 15_000) / 500) + 1));
    expect(new Set(updates.map((e) => e.alias))).toEqual(new Set([`storm:#alerts:${iso(30 * 500)}`]));
    expect(out[30]!.map(brief)).toEqual(['IncidentOpened:first-notification', 'EventSuppressed:storm-control', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3']);
    expect(out[30]![1]!.data).toMatchObject({ suppressedBy: { kind: 'storm', threshold: 30, window: '1m' } });
    // Pages too: 30 of their own, then one for the storm, noted as its 170 incidents doubled (2, 4, … 128).
    const pager = out.flat().filter((e) => e.type === 'CreatePagerAlert' || e.type === 'AddPagerNote');
    expect(pager.filter((e) => e.type === 'CreatePagerAlert')).toHaveLength(31);
    expect(pager.filter((e) => e.type === 'AddPagerNote')).toHaveLength(7);
    expect(new Set(pager.slice(30).map((e) => e.alias))).toEqual(new Set([`storm:#alerts:${iso(30 * 500)}`]));
    // A minute after the last, it has calmed down: the next incident gets its own thread.
    expect(r.decide(open('later', 200 * 500 + MINUTE)).events.map(brief)[1]).toBe('PostSlackMessage:root:#alerts');
  });

  test('30 a minute is not a storm', () => {
    const r = new Replayer(builtin);
    const out = Array.from({ length: 60 }, (_, i) => r.decide(open(`c${i}`, i * 2_000)).events);
    expect(out.flat().filter((e) => e.type === 'PostSlackMessage')).toHaveLength(60);
    expect(out.flat().some((e) => e.type === 'EventSuppressed')).toBe(false);
  });
});

test("a storm's id is derived from its channel and start, whichever storms were asked about before", () => {
  const limits = rules.stormControl!;
  // More storms than the ids kept, and pairs whose channel and start differ only in where one ends and the other starts.
  for (let i = 0; i < 2_500; i++) {
    const [channel, since] = i % 2 === 0 ? [`#c${i}`, `1${iso(i)}`] : [`#c${i - 1}1`, iso(i - 1)];
    expect(stormOf(channel, since, limits).id).toBe(deriveId('storm', channel, since));
  }
});
