/**
 * Decisions are deterministic: the same inputs with the same rules and silences, replayed twice, give
 * byte-identical events, and the state is exactly the fold of the incident events (so it can be rebuilt
 * from incidents.v1).
 */
import { AliasState, deriveId, makeEnvelope, schemaAjv, SlackKeyState, validateEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { mulberry32 } from '@alertbus/spec';
import { alert, HOUR, MINUTE, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { decide, evolve, initialState, isIncidentEvent, isIncidentState, isSuppressedFiring, type AlertState, type DeciderState } from '../decider';
import { evolveAlert } from './evolve';
import { StateIndex } from './neighbours';
import { Replayer } from './replay';
import { SilenceBook } from './silences';

function stream(seed: number, count: number): Envelope<'AlertReceived'>[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const out: Envelope<'AlertReceived'>[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    at += rnd() < 0.3 ? 2_000 : Math.floor(rnd() * 90_000); // bursts, so storms happen
    const i = Math.floor(rnd() * 25);
    const severity = pick(['critical', 'warning', 'warning', 'info']);
    out.push(
      alert(`alertmanager:det-${i}`, rnd() < 0.3 ? 'resolved' : 'firing', {
        at,
        n,
        severity,
        labels: { team: pick(['db', 'web', 'search']), cluster: pick(['eu', 'us']), severity, alertname: `A${i}` },
      }),
    );
  }
  return out;
}

function silences(): SilenceBook {
  const book = new SilenceBook();
  book.apply(
    makeEnvelope({
      id: deriveId('det-silence'),
      type: 'SilenceCreated',
      alias: 'silence:det',
      occurredAt: new Date(T0 + 30 * MINUTE).toISOString(),
      recordedAt: new Date(T0 + 30 * MINUTE).toISOString(),
      source: 'history-api',
      data: {
        silenceId: 'det',
        matchers: ['team="search"'],
        startsAt: new Date(T0 + 30 * MINUTE).toISOString(),
        endsAt: new Date(T0 + 120 * MINUTE).toISOString(),
        createdBy: 'ana',
        comment: 'reindex',
        kind: 'maintenance',
      },
    }),
  );
  return book;
}

function replay(inputs: Envelope<'AlertReceived'>[]): { events: AnyEnvelope[]; replayer: Replayer } {
  const replayer = new Replayer(rulesFrom('rules.everything.yaml'), { silences: silences() });
  return { events: inputs.flatMap((i) => replayer.decide(i).events), replayer };
}

test('the same stream, rules and silences replayed twice give byte-identical decisions', () => {
  const inputs = stream(20260101, 600);
  const first = replay(inputs);
  const second = replay(inputs);
  expect(JSON.stringify(second.events)).toBe(JSON.stringify(first.events));
  // The stream exercises what it should: every kind of decision shows up.
  const reasons = new Set(first.events.filter(isIncidentEvent).map((e) => (e.data as { reason: string }).reason));
  expect([...reasons].sort()).toEqual(
    expect.arrayContaining(['dropped-by-rule', 'duplicate', 'first-notification', 'inhibited', 'reopened', 'repeat-interval-elapsed', 'resolved', 'silenced', 'storm-control']),
  );
  expect(new Set(first.events.map((e) => e.id)).size).toBe(first.events.length);
  // Every output is valid for its topic (what the processor checks before writing), every state for the state topic.
  for (const e of first.events) {
    const v = validateEnvelope(e);
    if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
  }
  // Replayed once more, every intermediate state is valid for the state topic, storm-gathered ones included.
  const validState = schemaAjv.compile(AliasState);
  const validKept = schemaAjv.compile(SlackKeyState);
  const check = new Replayer(rulesFrom('rules.everything.yaml'), { silences: silences() });
  let gathered = 0;
  let kept = 0;
  for (const input of inputs) {
    const { state } = check.decide(input);
    // A silenced firing that may inhibit is kept as a SuppressedFiring (a state record of its own kind).
    const valid = isSuppressedFiring(state) ? validKept : validState;
    if (state && !valid(state)) throw new Error(`state of ${input.alias} is not valid: ${JSON.stringify(valid.errors)}`);
    if (isIncidentState(state) && state.storm?.pageGrouped) gathered += 1;
    if (isSuppressedFiring(state)) kept += 1;
  }
  expect(gathered).toBeGreaterThan(0);
  expect(kept).toBeGreaterThan(0);
});

test('every alias state equals the fold of its incident events (what a restore from incidents.v1 gives)', () => {
  const { events, replayer } = replay(stream(7, 400));
  const folded = new Map<string, DeciderState>();
  for (const e of events.filter(isIncidentEvent)) folded.set(e.alias, evolve(folded.get(e.alias) ?? initialState(), e));
  for (const s of replayer.states.values()) expect(folded.get(s.alias)).toEqual(s);
});

/** The alias's incident: the state itself, or the resolved one a kept firing (SuppressedFiring) holds as `previous`. */
const incidentOf = (s: AlertState): DeciderState => (isIncidentState(s) ? s : isSuppressedFiring(s) && isIncidentState(s.previous) ? s.previous : undefined);

test('each state a decision gives is the fold of its incident events over the state it was given; the Replayer decides the same', () => {
  const inputs = stream(99, 600);
  const rules = rulesFrom('rules.everything.yaml');
  const book = silences();
  const index = new StateIndex();
  const states = new Map<string, AlertState>();
  const expected: AnyEnvelope[] = [];
  for (const input of inputs) {
    const before = states.get(input.alias);
    const d = decide(input, before, rules, { neighbours: index, silences: book });
    // The incident is the fold of the decision's incident events over the one it was given.
    expect(incidentOf(d.state)).toEqual(d.events.filter(isIncidentEvent).reduce<DeciderState>(evolve, incidentOf(before)));
    // And all the alias holds, a silenced firing kept in front of it included, is the fold of them over what it held.
    expect(d.events.filter((e) => isIncidentEvent(e) && e.alias === input.alias).reduce<AlertState>((s, e) => evolveAlert(s, e), before)).toEqual(d.state);
    // The stream's resolves carry no endsAt: its aliases only ever hold incidents, and silenced firings that may inhibit.
    if (d.state !== undefined && !isIncidentState(d.state) && !isSuppressedFiring(d.state)) throw new Error(`not an incident: ${JSON.stringify(d.state)}`);
    if (d.state) states.set(input.alias, d.state);
    else states.delete(input.alias);
    index.put(input.alias, d.state);
    expected.push(...d.events);
  }
  expect(JSON.stringify(replay(inputs).events)).toBe(JSON.stringify(expected));
});

/** Weeks of inputs on a few aliases, hours apart, so resolved incidents outlive a short retention. */
function longStream(seed: number, count: number): Envelope<'AlertReceived'>[] {
  const rnd = mulberry32(seed);
  const out: Envelope<'AlertReceived'>[] = [];
  let at = 0;
  for (let n = 0; n < count; n++) {
    at += Math.floor(rnd() * 6 * HOUR);
    const i = Math.floor(rnd() * 40);
    out.push(alert(`alertmanager:long-${i}`, rnd() < 0.45 ? 'resolved' : 'firing', { at, n, severity: 'warning', labels: { team: 'web', alertname: `L${i}` } }));
  }
  return out;
}

const RETENTION = 2 * 24 * HOUR;

describe('with ROUTER_STATE_RETENTION, evicting expired state changes no decision', () => {
  const inputs = longStream(424242, 800);
  const run = (evict: boolean) => {
    const replayer = new Replayer(rulesFrom('rules.everything.yaml'), { retentionMs: RETENTION, evict });
    return { events: inputs.flatMap((i) => replayer.decide(i).events), replayer };
  };

  test('replayed twice, and with or without the evictions, the decisions are byte-identical', () => {
    const evicting = run(true);
    expect(JSON.stringify(run(true).events)).toBe(JSON.stringify(evicting.events));
    const keeping = run(false);
    expect(JSON.stringify(keeping.events)).toBe(JSON.stringify(evicting.events));
    // It evicted, and holds less than every alias it saw.
    expect(evicting.replayer.evicted).toBeGreaterThan(10);
    expect(evicting.replayer.size).toBeLessThan(keeping.replayer.size);
    expect(new Set(evicting.events.map((e) => e.id)).size).toBe(evicting.events.length);
  });

  test('an alias firing after its resolved incident expired opens a new incident, with an id of its own', () => {
    const { events } = run(true);
    const openings = events.filter((e) => e.type === 'IncidentOpened' || e.type === 'IncidentReopened');
    const byAlias = new Map<string, string[]>();
    for (const e of openings) byAlias.set(e.alias, [...(byAlias.get(e.alias) ?? []), (e.data as { incidentId: string }).incidentId]);
    // Fresh starts after expiry: occurrence 1 again, yet never an id seen before.
    const fresh = openings.filter((e, i) => e.type === 'IncidentOpened' && openings.findIndex((o) => o.alias === e.alias) !== i);
    expect(fresh.length).toBeGreaterThan(0);
    for (const e of fresh) expect((e.data as { occurrence: number; reason: string })).toMatchObject({ occurrence: 1, reason: 'first-notification' });
    for (const ids of byAlias.values()) expect(new Set(ids).size).toBe(ids.length);
  });

  test('a resolved incident is remembered until the retention has passed, by event time', () => {
    const r = new Replayer(rulesFrom('rules.everything.yaml'), { retentionMs: RETENTION });
    const A = 'alertmanager:kept';
    r.decide(alert(A, 'firing', { at: 0 }));
    r.decide(alert(A, 'resolved', { at: HOUR }));
    // Within the retention: a new firing is a reopening of the same alias (occurrence 2).
    const again = r.decide(alert(A, 'firing', { at: HOUR + RETENTION - MINUTE }));
    expect(again.events[0]).toMatchObject({ type: 'IncidentReopened', data: { occurrence: 2 } });
    r.decide(alert(A, 'resolved', { at: 2 * HOUR + RETENTION }));
    // Past it: forgotten, a first notification again.
    const later = r.decide(alert(A, 'firing', { at: 2 * HOUR + 2 * RETENTION }));
    expect(later.events[0]).toMatchObject({ type: 'IncidentOpened', data: { occurrence: 1, reason: 'first-notification' } });
  });
  test("a resolve kept for an alias whose incident expired but is not evicted yet is what its late firing meets, in the Replayer as in decide", () => {
    const r = new Replayer(rulesFrom('rules.everything.yaml'), { retentionMs: RETENTION });
    const A = 'alertmanager:kept-late';
    r.decide(alert(A, 'firing', { at: 0 }));
    r.decide(alert(A, 'resolved', { at: MINUTE }));
    // Expired (not yet evicted: within the grace), the incident counts as absent; its alias now holds the resolve kept.
    const startsAt = new Date(T0 + MINUTE + RETENTION).toISOString();
    const endsAt = new Date(T0 + MINUTE + RETENTION + 30_000).toISOString();
    const early = r.decide(alert(A, 'resolved', { at: MINUTE + RETENTION + MINUTE, n: 1, startsAt, endsAt }));
    expect(early.state).toMatchObject({ kind: 'alert-resolved', endsAt });
    expect(r.state(A)).toBeUndefined();
    const late = r.decide(alert(A, 'firing', { at: MINUTE + RETENTION + 2 * MINUTE, n: 1, startsAt }));
    expect(late.events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', 'occurrence-already-resolved']]);
    // A new occurrence replaces the kept resolve with its incident.
    const next = r.decide(alert(A, 'firing', { at: MINUTE + RETENTION + 3 * MINUTE, n: 2, startsAt: new Date(T0 + MINUTE + RETENTION + 3 * MINUTE).toISOString() }));
    expect(next.events[0]).toMatchObject({ type: 'IncidentOpened', data: { occurrence: 1 } });
    expect(r.state(A)).toMatchObject({ status: 'open' });
    expect(r.size).toBe(1);
  });
});
