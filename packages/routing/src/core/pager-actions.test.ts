import { validateEnvelope, type AliasState, type AnyEnvelope, type PagerActionReceived } from '@alertbus/schemas';
import { decide, type RouterInput } from '../decider';
import { builtinRules } from '../rules/compile';
import { firing, resolved, T0 } from '../test-support/alerts';
import { ALICE, buttonClick } from '../test-support/slack';
import { pagerAction } from '../test-support/pager';
import { isIncidentState, type RouterState } from '../state';
import { evolve } from './evolve';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const A = 'alertmanager:c2ea85182f28cbd9';
const opened = decide(firing(A), undefined, rules).state as AliasState;
const I1 = opened.incidentId;
const PAGER_COMMANDS = ['CreatePagerAlert', 'AcknowledgePagerAlert', 'ClosePagerAlert', 'AddPagerNote', 'UpdatePagerPriority'];


/** given(state) when(inputs…): the outputs of the last input, each valid, and the state after it. */
function run(state: RouterState | undefined, ...inputs: RouterInput[]): { events: AnyEnvelope[]; state: RouterState | undefined } {
  let d: { events: AnyEnvelope[]; state: RouterState | undefined } = { events: [], state };
  for (const input of inputs) d = decide(input, d.state, rules);
  for (const e of d.events) {
    const v = validateEnvelope(e);
    if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
  }
  return d;
}
const types = (events: AnyEnvelope[]) => events.map((e) => e.type);

describe('pager actions: Acknowledge and Close taken in Opsgenie / JSM reach the incident', () => {
  test('given an open paged incident, when it is acknowledged in Opsgenie, then it is acknowledged by the pager user in the history and in Slack, and nothing goes back to the pager', () => {
    const { events, state } = run(opened, pagerAction('Acknowledge', A));
    expect(types(events)).toEqual(['IncidentAcknowledged', 'PostSlackMessage', 'UpdateSlackMessage']);
    expect(events[0]!.data).toMatchObject({ incidentId: I1, status: 'acknowledged', reason: 'acknowledged', by: 'pager-person' });
    expect(events[1]!.data).toMatchObject({ purpose: 'reply', channel: '#alerts', text: 'Acknowledged in Opsgenie by pager-person.' });
    expect(events[2]!.data).toMatchObject({ text: expect.stringContaining('[ACKNOWLEDGED]') });
    expect(JSON.stringify(events[2]!.data)).toContain('pager-person');
    expect(JSON.stringify(events[2]!.data)).not.toContain('alertbus_ack');
    expect(events.every((e) => e.alias === A)).toBe(true);
    expect(state).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'pager-person' });
  });

  test('given an open paged incident, when it is closed in JSM, then it is resolved by the pager user, and no ClosePagerAlert is sent', () => {
    const { events, state } = run(opened, pagerAction('Close', A, { provider: 'jsm' }));
    expect(types(events)).toEqual(['IncidentResolved', 'PostSlackMessage', 'UpdateSlackMessage']);
    expect(events[0]!.data).toMatchObject({ incidentId: I1, status: 'resolved', by: 'pager-person' });
    expect(events[1]!.data).toMatchObject({ text: `Resolved in Jira Service Management by pager-person: ${opened.title}` });
    expect(events[2]!.data).toMatchObject({ text: expect.stringContaining('[RESOLVED]') });
    expect(state).toMatchObject({ status: 'resolved', resolvedBy: 'pager-person' });
  });

  test('the pager\'s echo of an ack alertbus made (clicked in Slack) is recorded as already acknowledged and sends nothing', () => {
    const click = buttonClick(A, I1, 'alertbus_ack', { at: 1_000 });
    const afterClick = run(opened, click);
    expect(types(afterClick.events)).toContain('AcknowledgePagerAlert');
    const { events } = run(afterClick.state, pagerAction('Acknowledge', A, { user: 'alertbus API integration' }));
    expect(events.map((e) => [e.type, e.data])).toEqual([['EventSuppressed', expect.objectContaining({ reason: 'already-acknowledged', incidentId: I1, inputType: 'PagerActionReceived' })]]);
  });

  test('a Close after the incident was resolved (the echo of alertbus\'s own close) is recorded as already resolved and sends nothing', () => {
    const { events } = run(opened, pagerAction('Close', A, { at: 1_000 }), pagerAction('Close', A, { at: 2_000, user: 'alertbus' }));
    expect(events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', 'already-resolved']]);
  });

  test.each([
    ['an alias alertbus has no incident for', undefined, pagerAction('Acknowledge', 'some-other-tool:123'), 'no-incident'],
    ['a storm\'s grouped page (the storm\'s page only: no member changes)', undefined, pagerAction('Acknowledge', 'storm:#alerts:2025-03-01T10:00:00.000Z'), 'no-incident'],
    ['an incident alertbus did not page', { ...opened, paged: false }, pagerAction('Acknowledge', A), 'no-incident'],
    ['an incident whose page is under a templated alias', { ...opened, pagerAlias: 'team-db' }, pagerAction('Acknowledge', A), 'no-incident'],
    ['an AddNote', opened, pagerAction('AddNote', A), 'unknown-action'],
    ['an UnAcknowledge of an open incident', opened, pagerAction('UnAcknowledge', A), 'not-acknowledged'],
    ['an UnAcknowledge of a resolved incident', { ...opened, status: 'resolved', resolvedAt: new Date(T0 + 1_000).toISOString() }, pagerAction('UnAcknowledge', A), 'already-resolved'],
    ['an UnAcknowledge of the pager alert of an earlier occurrence', { ...opened, status: 'acknowledged', acknowledgedAt: new Date(T0 + 1_000).toISOString() }, pagerAction('UnAcknowledge', A, { alertCreatedAt: new Date(T0 - 3_600_000).toISOString() }), 'other-occurrence'],
    ['a Close of the pager alert of an earlier occurrence', opened, pagerAction('Close', A, { alertCreatedAt: new Date(T0 - 3_600_000).toISOString() }), 'other-occurrence'],
  ] as const)('%s is recorded as suppressed with its reason and nothing is sent', (_name, state, input, reason) => {
    const { events, state: after } = run(state as RouterState | undefined, input);
    expect(events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', reason]]);
    // Recorded in the incident's timeline (lastInputId), nothing else changes.
    const unchanged = (x: unknown) => (isIncidentState(x as RouterState) ? { ...(x as AliasState), lastInputId: '' } : x);
    expect(unchanged(after)).toEqual(unchanged(state));
  });

  test('given an incident acknowledged in the pager, when it is unacknowledged there, then it is open again in the history and in Slack (buttons back), and the thread says the pager escalates again', () => {
    const acked = run(opened, pagerAction('Acknowledge', A, { at: 1_000 })).state;
    const { events, state } = run(acked, pagerAction('UnAcknowledge', A, { at: 2_000, user: 'night-owl' }));
    expect(types(events)).toEqual(['IncidentUnacknowledged', 'PostSlackMessage', 'UpdateSlackMessage']);
    expect(events[0]!.data).toMatchObject({ incidentId: I1, status: 'open', reason: 'unacknowledged', by: 'night-owl', provider: 'opsgenie', unacknowledgedAt: new Date(T0 + 2_000).toISOString() });
    expect(events[1]!.data).toMatchObject({ purpose: 'reply', channel: '#alerts', text: 'Unacknowledged in Opsgenie by night-owl: the pager escalates again.' });
    expect(events[2]!.data).toMatchObject({ text: expect.not.stringContaining('[ACKNOWLEDGED]') });
    expect(JSON.stringify(events[2]!.data)).toContain('alertbus_ack');
    expect(state).toMatchObject({ status: 'open' });
    expect(state).not.toHaveProperty('acknowledgedAt');
    expect(state).not.toHaveProperty('acknowledgedBy');
    // Open again: the next Acknowledge, in the pager or in Slack, acknowledges it again.
    const again = run(state, pagerAction('Acknowledge', A, { at: 3_000, user: 'day-person' }));
    expect(types(again.events)[0]).toBe('IncidentAcknowledged');
    expect(again.state).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'day-person' });
  });

  test('an incident acknowledged in Slack is unacknowledged by the pager\'s UnAcknowledge too, and a second UnAcknowledge changes nothing', () => {
    const clicked = run(opened, buttonClick(A, I1, 'alertbus_ack', { at: 1_000 })).state;
    const first = run(clicked, pagerAction('UnAcknowledge', A, { at: 2_000, provider: 'jsm' }));
    expect(types(first.events)).toEqual(['IncidentUnacknowledged', 'PostSlackMessage', 'UpdateSlackMessage']);
    expect(first.events[1]!.data).toMatchObject({ text: 'Unacknowledged in Jira Service Management by pager-person: the pager escalates again.' });
    const second = run(first.state, pagerAction('UnAcknowledge', A, { at: 3_000 }));
    expect(second.events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', 'not-acknowledged']]);
  });

  test('the state folded from the incident events of an ack and an unack (a restore from incidents.v1) is the state the router kept', () => {
    const ack = run(opened, pagerAction('Acknowledge', A, { at: 1_000 }));
    const unack = run(ack.state, pagerAction('UnAcknowledge', A, { at: 2_000 }));
    const folded = [...ack.events, ...unack.events].reduce<AliasState | undefined>((st, e) => evolve(st, e), opened);
    expect(folded).toEqual(unack.state);
    expect(JSON.stringify(Object.keys(folded!))).toBe(JSON.stringify(Object.keys(unack.state!)));
  });

  test('the pager user is text in Slack: never a mention, a broadcast or a link', () => {
    const { events, state } = run(opened, pagerAction('Acknowledge', A, { user: '<!channel> <https://evil|x>' }));
    expect(events[1]!.data).toMatchObject({ text: 'Acknowledged in Opsgenie by &lt;!channel&gt; &lt;https://evil|x&gt;.' });
    expect(JSON.stringify(events[2]!.data)).not.toContain('<!channel>');
    expect(isIncidentState(state) && state.acknowledgedBy).toBe('<!channel> <https://evil|x>');
  });

  describe('a pager user named like a Slack user id is text in the root message, not a mention of that Slack user', () => {
    const rootOf = (events: AnyEnvelope[]) => JSON.stringify(events.find((e) => e.type === 'UpdateSlackMessage')!.data);

    test.each([
      ['Acknowledge', 'U0ABC123'],
      ['Acknowledge', 'WATCHDOG'],
      ['Close', 'U0ABC123'],
      ['Close', 'WATCHDOG'],
    ])('%s in the pager by %s', (action, user) => {
      const { events, state } = run(opened, pagerAction(action, A, { user }));
      expect(rootOf(events)).not.toContain('<@');
      expect(rootOf(events)).toContain(`${user} at <!date^`);
      // Rendered again from the state (the source resolves it): still text.
      if (action === 'Acknowledge') {
        const later = run(state, resolved(A, { at: 10_000 }));
        expect(types(later.events)).toContain('UpdateSlackMessage');
        expect(rootOf(later.events)).not.toContain('<@');
        expect(rootOf(later.events)).toContain(`${user} at <!date^`);
      }
    });

    test('an acknowledge in Slack still mentions who clicked, and a pager user acknowledging after an unacknowledge is text', () => {
      const alice = { id: ALICE, name: 'alice' };
      const clicked = run(opened, buttonClick(A, I1, 'alertbus_ack', { at: 1_000, user: alice }));
      expect(rootOf(clicked.events)).toContain(`<@${ALICE}> at <!date^`);
      const unacked = run(clicked.state, pagerAction('UnAcknowledge', A, { at: 2_000 }));
      const again = run(unacked.state, pagerAction('Acknowledge', A, { at: 3_000, user: 'U0ABC123' }));
      expect(rootOf(again.events)).not.toContain('<@');
      const resolvedInSlack = run(again.state, buttonClick(A, I1, 'alertbus_resolve', { at: 4_000, user: alice }));
      expect(rootOf(resolvedInSlack.events)).toContain(`<@${ALICE}> at <!date^`);
      expect(rootOf(resolvedInSlack.events)).not.toContain('<@U0ABC123>');
    });
  });

  test('no decision on a pager action ever commands the pager', () => {
    const inputs = ['Acknowledge', 'Close', 'AddNote', 'UnAcknowledge', 'Create'].map((a, i) => pagerAction(a, A, { at: 1_000 * (i + 1) }));
    for (const input of inputs) expect(types(run(opened, input).events).filter((t) => PAGER_COMMANDS.includes(t))).toEqual([]);
  });
});
