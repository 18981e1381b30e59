import { validateEnvelope, type AliasState, type AnyEnvelope } from '@alertbus/schemas';
import { decide, type RouterInput } from '../decider';
import { builtinRules } from '../rules/compile';
import { firing, resolved, T0 } from '../test-support/alerts';
import { pagerAction } from '../test-support/pager';
import { isIncidentState, type RouterState } from '../state';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const A = 'alertmanager:flap3';
const OLD_ALERT = '11111111-1111-4111-8111-111111111111';

function run(state: RouterState | undefined, ...inputs: RouterInput[]): { events: AnyEnvelope[]; state: RouterState | undefined } {
  let d: { events: AnyEnvelope[]; state: RouterState | undefined } = { events: [], state };
  for (const input of inputs) {
    d = decide(input, d.state, rules);
    for (const e of d.events) {
      const v = validateEnvelope(e);
      if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
    }
  }
  return d;
}
const outcome = (events: AnyEnvelope[]) => events.map((e) => (e.type === 'EventSuppressed' ? `EventSuppressed:${(e.data as { reason: string }).reason}` : e.type));
const incident = (s: RouterState | undefined) => (isIncidentState(s) ? s : undefined);

/** Fired, resolved at the source, fired again 3 s later: the second occurrence, open and paged. */
function secondOccurrence(): { first: AliasState; second: AliasState } {
  const first = run(undefined, firing(A)).state as AliasState;
  const second = run(first, resolved(A, { at: 10_000 }), firing(A, { at: 13_000, startsAt: new Date(T0 + 13_000).toISOString() })).state as AliasState;
  return { first, second };
}

describe('pager actions of an earlier occurrence do not end the open one', () => {
  test('alertbus\'s own late Close of the previous occurrence, reported by the webhook, changes nothing (own-action)', () => {
    const { first, second } = secondOccurrence();
    expect(second.incidentId).not.toBe(first.incidentId);
    const echo = pagerAction('Close', A, { at: 20_000, by: 'alertbus', user: 'alertbus', alertId: OLD_ALERT, alertCreatedAt: new Date(T0 + 500).toISOString() });
    const { events, state } = run(second, echo);
    expect(outcome(events)).toEqual(['EventSuppressed:own-action']);
    expect(incident(state)).toMatchObject({ incidentId: second.incidentId, status: 'open' });
  });

  test('alertbus\'s own Acknowledge, reported back, changes nothing even when the incident is open (own-action)', () => {
    const { second } = secondOccurrence();
    const { events, state } = run(second, pagerAction('Acknowledge', A, { at: 20_000, by: 'alertbus' }));
    expect(outcome(events)).toEqual(['EventSuppressed:own-action']);
    expect(incident(state)?.status).toBe('open');
  });
});
