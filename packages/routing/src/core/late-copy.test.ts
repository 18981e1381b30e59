/** Late copies of a resolved occurrence (the other Alertmanager of an HA pair, a retried webhook): the rules' late-copy window (defaults.late_copy_window). */
import { AliasState, schemaAjv, validateEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { decide, evolve, isIncidentEvent, isIncidentState, type RouterState } from '../decider';
import { explainAlert } from '../explain';
import { builtinRules, compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';
import { firing, MINUTE, resolved } from '../test-support/alerts';

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
/** The other Alertmanager of the pair sends the firing it had not sent yet. */
const copy = (at: number, startsAt = S1) => firing(A, { at, startsAt, n: 1 });
const types = (events: AnyEnvelope[]) => events.map((e) => e.type);
const reasonOf = (events: AnyEnvelope[]) => (events[0]!.data as { reason: string }).reason;

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
