/**
 * Storm control is on for a rules file of one's own too, as in the built-in rules: an SRE who writes rules keeps the
 * protection against thousands of threads and pages unless the file turns it off (`storm_control: { enabled: false }`).
 */
import { validateEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { specFor } from '@alertbus/spec';
import { decide, evolve, initialState, isIncidentEvent, type AlertDecision, type DeciderState } from '../decider';
import { firing, T0 } from '../test-support/alerts';
import { rulesFrom } from '../test-support/scenario';
import type { CompiledRules } from '../rules/types';
import { Replayer } from './replay';

const own = rulesFrom('rules.storm-default.yaml');
const off = rulesFrom('rules.storm-off.yaml');
const partial = rulesFrom('rules.storm-partial.yaml');
const open = (name: string, at: number, team = 'web') =>
  firing(`am:${name}`, { at, labels: { team }, title: `${name} is down`, severity: 'warning' });

type Expected = [type: AnyEnvelope['type'], alias: string, data?: Record<string, unknown>];

/**
 * given(the channel's recent incidents) when(one more) then(outputs): the neighbours are what a router that decided
 * the given inputs holds; the alias's own state is the fold of its given events.
 */
function given(rules: CompiledRules, inputs: Envelope<'AlertReceived'>[]) {
  const replayer = new Replayer(rules);
  const events = inputs.flatMap((i) => replayer.decide(i).events);
  const spec = specFor<Envelope<'AlertReceived'>, DeciderState, AnyEnvelope, AlertDecision, Expected[]>(
    { decide: (input, state) => decide(input, state, rules, { neighbours: replayer.states }), evolve, initialState },
    {
      check: (decision, expected) => {
        expect(decision.events.map((e) => [e.type, e.alias])).toEqual(expected.map(([t, a]) => [t, a]));
        expected.forEach(([, , data], i) => data && expect(decision.events[i]!.data).toMatchObject(data));
      },
      always: (decision) => decision.events.forEach((e) => expect(validateEnvelope(e)).toMatchObject({ ok: true })),
    },
  );
  return { when: (input: Envelope<'AlertReceived'>) => spec.given(...events.filter((e) => isIncidentEvent(e) && e.alias === input.alias)).when(input) };
}

/** 30 new incidents within 30 s in #web: the built-in threshold, reached. */
const thirty = Array.from({ length: 30 }, (_, i) => open(`w${i}`, i * 1_000));
const at = 30_000;
const since = new Date(T0 + at).toISOString();

describe('a rules file without storm_control: storm control is on, with the built-in limits', () => {
  test('compiled: above 30 new incidents within 1m, pages grouped', () => {
    expect(own.stormControl).toEqual({ threshold: 30, window: '1m', windowMs: 60_000, pages: 'grouped', channels: {} });
  });

  test('the 31st new incident within a minute in a channel is gathered into the storm summary and the storm\'s page', () => {
    given(own, thirty)
      .when(open('w30', at))
      .then([
        ['IncidentOpened', 'am:w30', { reason: 'first-notification', rule: { name: 'web' } }],
        ['EventSuppressed', 'am:w30', { reason: 'storm-control', suppressedBy: { kind: 'storm', channel: '#web', threshold: 30, window: '1m', since, pageGrouped: true } }],
        ['PostSlackMessage', `storm:#web:${since}`, { purpose: 'root', channel: '#web' }],
        ['CreatePagerAlert', `storm:#web:${since}`],
      ]);
  });

  test('30 within a minute is not a storm: the 30th gets its own thread and page', () => {
    given(own, thirty.slice(0, 29))
      .when(thirty[29]!)
      .then([
        ['IncidentOpened', 'am:w29', { slack: { channel: '#web' } }],
        ['PostSlackMessage', 'am:w29', { purpose: 'root' }],
        ['CreatePagerAlert', 'am:w29'],
      ]);
  });

  test('a file that gives only a threshold keeps the built-in window', () => {
    expect(partial.stormControl).toMatchObject({ threshold: 5, window: '1m', pages: 'grouped' });
    given(partial, Array.from({ length: 5 }, (_, i) => open(`p${i}`, i * 10_000)))
      .when(open('p5', 50_000))
      .then([
        ['IncidentOpened', 'am:p5'],
        ['EventSuppressed', 'am:p5', { reason: 'storm-control', suppressedBy: { threshold: 5, window: '1m' } }],
        ['PostSlackMessage', `storm:#alerts:${new Date(T0 + 50_000).toISOString()}`],
        ['CreatePagerAlert', `storm:#alerts:${new Date(T0 + 50_000).toISOString()}`],
      ]);
  });
});

describe('storm_control: { enabled: false } turns it off', () => {
  test('compiled: no storm control', () => {
    expect(off.stormControl).toBeUndefined();
  });

  test('the 31st new incident within a minute gets its own thread and page, like the first', () => {
    given(off, thirty)
      .when(open('w30', at))
      .then([
        ['IncidentOpened', 'am:w30', { slack: { channel: '#web' }, pager: { priority: 'P3' } }],
        ['PostSlackMessage', 'am:w30', { purpose: 'root', channel: '#web' }],
        ['CreatePagerAlert', 'am:w30'],
      ]);
  });
});
