/**
 * Late copies of a resolved occurrence (the other Alertmanager of an HA pair, a retried webhook): a person's resolve
 * followed by the sender's, and the rules' late-copy window (defaults.late_copy_window).
 */
import { AliasState, schemaAjv, validateEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { decide, evolve, isIncidentEvent, isIncidentState, type RouterState } from '../decider';
import { explainAlert } from '../explain';
import { builtinRules, compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';
import { firing, MINUTE, resolved } from '../test-support/alerts';
import { buttonClick } from '../test-support/slack';
import { keptResolveOf } from './evolve';
import { incidentIdOf } from './incident-id';

const A = 'alertmanager:late';
const S1 = '2025-03-01T09:58:00Z';
const E1 = '2025-03-01T10:04:00Z';
const E1ms = '2025-03-01T10:04:00.000Z';
const builtin = builtinRules({ defaultChannel: '#alerts' });
const validState = schemaAjv.compile(AliasState);

function rulesWith(window: string): CompiledRules {
  const r = compileRules(`defaults:\n  late_copy_window: ${window}\n`, 'rules.yaml', { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
}

type Input = Parameters<typeof decide>[0];

/**
 * Decides the inputs in order from no state, as the router does (each decision's state kept for the next), checking
 * on the way what every decision must keep: valid events, and an incident's state the fold of its incident events.
 */
function run(inputs: Input[], rules: CompiledRules = builtin): { events: AnyEnvelope[]; state: RouterState | undefined } {
  let state: RouterState | undefined;
  let events: AnyEnvelope[] = [];
  for (const input of inputs) {
    const d = decide(input, state, rules);
    for (const e of d.events) {
      const v = validateEnvelope(e);
      if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
    }
    if (isIncidentState(d.state)) {
      expect(validState(d.state)).toBe(true);
      expect(d.state).toEqual(d.events.filter(isIncidentEvent).reduce(evolve, isIncidentState(state) ? state : undefined));
    }
    state = d.state;
    events = d.events;
  }
  return { events, state };
}

const first = firing(A, { startsAt: S1 });
const incident1 = incidentIdOf(A, 1, first.id);
/** Someone clicks Resolve in Slack at 10:03, while the sender still says it fires. */
const click = buttonClick(A, incident1, 'alertbus_resolve', { at: 3 * MINUTE });
/** Alertmanager's resolve at 10:05 (the alert ended at 10:04). */
const senderResolve = resolved(A, { at: 5 * MINUTE, startsAt: S1, endsAt: E1 });
/** The other Alertmanager of the pair sends the firing it had not sent yet. */
const copy = (at: number, startsAt = S1) => firing(A, { at, startsAt, n: 1 });
const types = (events: AnyEnvelope[]) => events.map((e) => e.type);
const reasonOf = (events: AnyEnvelope[]) => (events[0]!.data as { reason: string }).reason;

describe("a person's resolve, then the sender's, then a late copy of the firing", () => {
  test("the sender's resolve keeps its end on the state, and the late copy opens nothing: no second thread, no second page", () => {
    const resolvedByBoth = run([first, click, senderResolve]);
    expect(resolvedByBoth.events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', 'already-resolved']]);
    expect(resolvedByBoth.events[0]!.data).toMatchObject({ incidentId: incident1, endsAt: E1ms });
    // Still the person's resolve (who and when), with the sender's end beside it.
    expect(resolvedByBoth.state).toMatchObject({ status: 'resolved', resolvedBy: 'U0BOB', resolvedAt: '2025-03-01T10:03:00.000Z', endsAt: E1ms, senderResolvedAt: '2025-03-01T10:05:00.000Z' });

    const late = run([first, click, senderResolve, copy(5 * MINUTE + 2_000)]);
    expect(types(late.events)).toEqual(['EventSuppressed']);
    expect(late.events[0]!.data).toMatchObject({ reason: 'occurrence-already-resolved', incidentId: incident1 });
  });

  test('the window counts from the sender\'s resolve, not the person\'s', () => {
    const at = (ms: number) => run([first, click, senderResolve, copy(ms)]).events;
    expect(reasonOf(at(10 * MINUTE))).toBe('occurrence-already-resolved');
    expect(types(at(10 * MINUTE + 1))).toEqual(['IncidentReopened', 'PostSlackMessage', 'CreatePagerAlert']);
  });

  test('a new occurrence (a startsAt after the end) opens at once', () => {
    expect(types(run([first, click, senderResolve, copy(5 * MINUTE + 2_000, '2025-03-01T10:04:00.001Z')]).events)).toEqual([
      'IncidentReopened',
      'PostSlackMessage',
      'CreatePagerAlert',
    ]);
  });

  test("a person's resolve alone lets the next firing reopen: the person may have resolved something still firing", () => {
    const d = run([first, click, copy(3 * MINUTE + 2_000)]);
    expect(types(d.events)).toEqual(['IncidentReopened', 'PostSlackMessage', 'CreatePagerAlert']);
    expect(d.state).toMatchObject({ status: 'open', occurrence: 2 });
    // A sender's resolve without its times says nothing about when the alert ended: as before.
    const untimed = run([first, click, resolved(A, { at: 5 * MINUTE }), copy(5 * MINUTE + 2_000)]);
    expect(types(untimed.events)).toEqual(['IncidentReopened', 'PostSlackMessage', 'CreatePagerAlert']);
  });

  test("a second copy of the sender's resolve keeps the later end", () => {
    const d = run([first, click, senderResolve, resolved(A, { at: 5 * MINUTE + 1_000, n: 1, startsAt: S1, endsAt: '2025-03-01T10:03:59Z' })]);
    expect(d.state).toMatchObject({ endsAt: E1ms, senderResolvedAt: '2025-03-01T10:05:01.000Z' });
  });
});

describe('defaults.late_copy_window', () => {
  const over = resolved(A, { at: 5 * MINUTE, startsAt: S1, endsAt: E1 });
  /** The sender resolved the incident at 10:05; its late copy arrives `after` later. */
  const afterResolve = (after: number, rules: CompiledRules) => run([first, over, copy(5 * MINUTE + after)], rules).events;
  /** The resolve came first (kept under the alias), its firing `after` later. */
  const afterKept = (after: number, rules: CompiledRules) =>
    run([resolved(A, { startsAt: S1, endsAt: E1 }), firing(A, { at: after, startsAt: S1 })], rules).events;
  const opened = ['IncidentOpened', 'PostSlackMessage', 'CreatePagerAlert'];
  const reopened = ['IncidentReopened', 'PostSlackMessage', 'CreatePagerAlert'];

  test('unset, it is 5 minutes, as before', () => {
    expect(builtin.defaults.lateCopyWindowMs).toBe(5 * MINUTE);
    expect(reasonOf(afterResolve(5 * MINUTE, builtin))).toBe('occurrence-already-resolved');
    expect(types(afterResolve(5 * MINUTE + 1, builtin))).toEqual(reopened);
    expect(types(afterResolve(7 * MINUTE, builtin))).toEqual(reopened);
    expect(types(afterKept(7 * MINUTE, builtin))).toEqual(opened);
  });

  test('10m: a late copy 7 minutes after the resolve opens nothing; past 10 minutes it opens', () => {
    const ten = rulesWith('10m');
    expect(ten.defaults.lateCopyWindowMs).toBe(10 * MINUTE);
    expect(reasonOf(afterResolve(7 * MINUTE, ten))).toBe('occurrence-already-resolved');
    expect(reasonOf(afterKept(7 * MINUTE, ten))).toBe('occurrence-already-resolved');
    expect(types(afterResolve(10 * MINUTE + 1, ten))).toEqual(reopened);
    expect(types(afterKept(10 * MINUTE + 1, ten))).toEqual(opened);
  });

  test('0 turns late-copy suppression off: a firing after a resolve always opens', () => {
    for (const off of ['0', '"0"', '0s']) {
      const rules = rulesWith(off);
      expect(rules.defaults.lateCopyWindowMs).toBe(0);
      expect(types(afterResolve(2_000, rules))).toEqual(reopened);
      expect(types(afterKept(0, rules))).toEqual(opened);
    }
  });

  test('it is part of the rules version, so a replay with the same rules decides the same', () => {
    expect(rulesWith('10m').version).not.toBe(rulesWith('5m').version);
    expect(afterResolve(7 * MINUTE, rulesWith('10m'))[0]!.data).toMatchObject({ rule: { rulesVersion: rulesWith('10m').version } });
  });

  test('a bad value is refused with the line, the field and what is wanted', () => {
    const refuse = (value: string) => {
      const r = compileRules(`# routing\ndefaults:\n  repeat_interval: 4h\n  late_copy_window: ${value}\n`, 'rules.yaml', { defaultChannel: '#alerts' });
      if (r.ok) throw new Error(`accepted ${value}`);
      return r.message;
    };
    const wanted = 'rules.yaml:4:21: defaults.late_copy_window: must be a duration such as 5m or 10m, or 0 to turn late-copy suppression off';
    expect(refuse('5 minutes')).toBe(wanted);
    expect(refuse('-1m')).toBe(wanted);
    expect(refuse('7')).toBe(wanted);
    expect(refuse('off')).toBe(wanted);
    expect(refuse('99999999999y')).toBe('rules.yaml:4:21: defaults.late_copy_window: is too long: at most 285616y');
  });

  test('explain (alertbus rules test) still answers with the setting in the file', () => {
    const x = explainAlert(rulesWith('10m'), firing(A));
    expect(types(x.events)).toEqual(opened);
  });
});

describe('the resolve kept before its firing is the fold of the event that kept it', () => {
  test('EventSuppressed carries the end the alias keeps, and keptResolveOf gives the decided state', () => {
    const early = resolved(A, { startsAt: S1, endsAt: E1 });
    const d = decide(early, undefined, builtin);
    expect(d.events[0]!.data).toMatchObject({ reason: 'resolved-without-open-incident', endsAt: E1ms });
    expect(keptResolveOf(d.events[0]!)).toEqual(d.state);
    // A second, earlier end: the event says the end kept (the later), as the state does.
    const again = decide(resolved(A, { at: 1_000, startsAt: S1, endsAt: '2025-03-01T10:03:00Z' }), d.state, builtin);
    expect(again.events[0]!.data).toMatchObject({ endsAt: E1ms });
    expect(keptResolveOf(again.events[0]!)).toEqual(again.state);
    // Without an end, nothing kept and nothing said.
    const bare = decide(resolved(A) as Envelope<'AlertReceived'>, undefined, builtin);
    expect(bare.events[0]!.data).not.toHaveProperty('endsAt');
    expect(keptResolveOf(bare.events[0]!)).toBeUndefined();
  });
});
