import { deriveId, makeEnvelope, validateEnvelope, type AliasState, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { decide, type RouterInput } from '../decider';
import { builtinRules } from '../rules/compile';
import { firing, resolved, T0 } from '../test-support/alerts';
import { pagerAction } from '../test-support/pager';
import { isIncidentState, type RouterState } from '../state';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const A = 'alertmanager:flap3';
const OLD_ALERT = '11111111-1111-4111-8111-111111111111';
const NEW_ALERT = '22222222-2222-4222-8222-222222222222';

/** The opsgenie-sink's report that the pager created `incidentId`'s alert `alertId` (keyed by the pager alias). */
function pagerCreated(alias: string, incidentId: string, alertId: string | undefined, at: number, dryRun = false): Envelope<'PagerAlertCreated'> {
  const commandId = deriveId('test-create', alias, incidentId);
  const when = new Date(T0 + at).toISOString();
  return makeEnvelope({
    id: deriveId(commandId, 'delivery'),
    type: 'PagerAlertCreated',
    alias,
    occurredAt: when,
    recordedAt: when,
    source: 'opsgenie-sink',
    causationId: commandId,
    correlationId: commandId,
    data: { commandId, commandType: 'CreatePagerAlert', incidentId, dryRun, attempts: 1, provider: 'opsgenie', ...(alertId !== undefined ? { alertId } : {}) },
  });
}

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

  test('the pager\'s created-alert delivery is kept with the occurrence it was created for', () => {
    const { first, second } = secondOccurrence();
    const kept = run(first, pagerCreated(A, first.incidentId, OLD_ALERT, 1_000));
    expect(kept.events).toEqual([]);
    expect(incident(kept.state)?.pagerAlertId).toBe(OLD_ALERT);
    // A late delivery of the previous occurrence's create does not name the open occurrence's alert.
    expect(incident(run(second, pagerCreated(A, first.incidentId, OLD_ALERT, 14_000)).state)?.pagerAlertId).toBeUndefined();
    // A dry run creates no alert.
    expect(incident(run(second, pagerCreated(A, second.incidentId, undefined, 14_000, true)).state)?.pagerAlertId).toBeUndefined();
    // A new occurrence starts without the previous one's alert.
    const reopened = run(kept.state, resolved(A, { at: 10_000 }), firing(A, { at: 13_000 })).state;
    expect(incident(reopened)?.incidentId).toBe(second.incidentId);
    expect(incident(reopened)?.pagerAlertId).toBeUndefined();
  });

  test.each([
    ['with the old alert\'s createdAt (within the clock slack)', { alertCreatedAt: new Date(T0 + 500).toISOString() }],
    ['without alert.createdAt', {}],
  ])('a replayed human Close of the previous pager alert, %s, is other-occurrence once the new alert\'s id is known', (_name, extra) => {
    const { first } = secondOccurrence();
    const one = run(first, pagerCreated(A, first.incidentId, OLD_ALERT, 1_000), pagerAction('Close', A, { at: 5_000, alertId: OLD_ALERT }));
    expect(incident(one.state)?.status).toBe('resolved');
    const again = run(one.state, firing(A, { at: 13_000, startsAt: new Date(T0 + 13_000).toISOString() }));
    const second = incident(again.state)!;
    expect(second.incidentId).not.toBe(first.incidentId);
    const known = run(second, pagerCreated(A, second.incidentId, NEW_ALERT, 14_000));
    const { events, state } = run(known.state, pagerAction('Close', A, { at: 20_000, alertId: OLD_ALERT, ...extra }));
    expect(outcome(events)).toEqual(['EventSuppressed:other-occurrence']);
    expect(incident(state)).toMatchObject({ incidentId: second.incidentId, status: 'open', pagerAlertId: NEW_ALERT });
    // The new alert's own Close still resolves it.
    expect(outcome(run(state, pagerAction('Close', A, { at: 21_000, alertId: NEW_ALERT })).events)).toEqual(['IncidentResolved', 'PostSlackMessage', 'UpdateSlackMessage']);
  });

  test('while the new alert\'s id is not known yet, the createdAt check still decides', () => {
    const { second } = secondOccurrence();
    const old = pagerAction('Close', A, { at: 20_000, alertId: OLD_ALERT, alertCreatedAt: new Date(T0 - 3_600_000).toISOString() });
    expect(outcome(run(second, old).events)).toEqual(['EventSuppressed:other-occurrence']);
    const recent = pagerAction('Close', A, { at: 20_000, alertId: NEW_ALERT, alertCreatedAt: new Date(T0 + 13_500).toISOString() });
    expect(outcome(run(second, recent).events)).toEqual(['IncidentResolved', 'PostSlackMessage', 'UpdateSlackMessage']);
  });

  test('a created-alert delivery under a templated pager alias or a storm\'s page leaves that key\'s state as it is', () => {
    const link = run(undefined, makeEnvelope({
      id: deriveId('test-link', 'team-db'),
      type: 'PagerAliasLinked',
      alias: 'team-db',
      occurredAt: new Date(T0).toISOString(),
      recordedAt: new Date(T0).toISOString(),
      source: 'router',
      correlationId: deriveId('test-link', 'team-db'),
      data: { pagerAlias: 'team-db', alias: A, incidentId: deriveId('incident', A, 1) },
    }));
    const after = run(link.state, pagerCreated('team-db', deriveId('incident', A, 1), NEW_ALERT, 1_000));
    expect(after).toEqual({ events: [], state: link.state });
    expect(run(undefined, pagerCreated('storm:#alerts:2025-03-01T10:00:00.000Z', 'storm-id', NEW_ALERT, 1_000))).toEqual({ events: [], state: undefined });
    // An incident paged under another alias keeps no alert id of a create keyed by its own alias for another incident.
    const own = run(undefined, firing(A)).state as AliasState;
    expect(run(own, pagerCreated(A, 'another-incident', NEW_ALERT, 1_000)).state).toEqual(own);
  });
});
