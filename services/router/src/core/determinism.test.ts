/**
 * Decisions are deterministic: the same inputs with the same rules and silences, replayed twice, give
 * byte-identical events, and the state is exactly the fold of the incident events (so it can be rebuilt
 * from incidents.v1).
 */
import { AliasState, deriveId, makeEnvelope, schemaAjv, validateEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { alert, MINUTE, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import { evolve, initialState, isIncidentEvent, type DeciderState } from './decider';
import { Replayer } from './replay';
import { SilenceBook } from './silences';

/** A small seeded PRNG (mulberry32), so the stream is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function stream(seed: number, count: number): Envelope<'AlertReceived'>[] {
  const rnd = prng(seed);
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
  const check = new Replayer(rulesFrom('rules.everything.yaml'), { silences: silences() });
  let gathered = 0;
  for (const input of inputs) {
    const { state } = check.decide(input);
    if (state && !validState(state)) throw new Error(`state of ${input.alias} is not valid: ${JSON.stringify(validState.errors)}`);
    if (state?.storm && state.pagerAlias) gathered += 1;
  }
  expect(gathered).toBeGreaterThan(0);
});

test('every alias state equals the fold of its incident events (what a restore from incidents.v1 gives)', () => {
  const { events, replayer } = replay(stream(7, 400));
  const folded = new Map<string, DeciderState>();
  for (const e of events.filter(isIncidentEvent)) folded.set(e.alias, evolve(folded.get(e.alias) ?? initialState(), e));
  for (const s of replayer.states.values()) expect(folded.get(s.alias)).toEqual(s);
});
