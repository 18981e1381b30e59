/** The accounting finds what a fault would cause: a missing post or page, a duplicate, a reopened incident, a dead letter. */
import { OpsgenieState, SlackState } from '@alertbus/stand-ins';
import { delayedCommands, drained, expectedSummary, historyCaughtUp, summarize, type Expectation, type Observation } from './exactly-once';

const exp: Expectation = { accepted: ['am:a', 'am:b', 'am:c'], resolved: ['am:a'] };

interface World {
  obs: Observation;
  slack: SlackState;
  opsgenie: OpsgenieState;
}

const ev = (type: string, alias: string, data: Record<string, unknown>, id = `${type}-${alias}`) => ({ id, type, alias, data });

/** What a healthy run leaves behind for `exp`. */
function healthy(): World {
  const slack = new SlackState({ channels: [{ id: 'C0ALERTS', name: 'alerts' }], users: [], usergroups: [] });
  const opsgenie = new OpsgenieState(() => new Date('2026-11-22T08:00:00Z'));
  const obs: Observation = { incidents: [], commands: [], deliveries: [], deadLetters: [], history: [] };
  for (const alias of exp.accepted) {
    const incidentId = `inc-${alias}`;
    obs.incidents.push(ev('IncidentOpened', alias, { incidentId }));
    const root = slack.store({
      channel: 'C0ALERTS',
      ts: slack.nextTs(),
      text: alias,
      user: 'U0ALERTBUS',
      updates: 0,
      metadata: { event_type: 'alertbus_command', event_payload: { command_id: `post-${alias}`, incident_id: incidentId } },
    });
    const requestId = opsgenie.create({ message: alias, alias }, 'opsgenie', '127.0.0.1');
    opsgenie.calls.push({ at: '', method: 'POST', url: '/v2/alerts', route: 'create', flavour: 'opsgenie', status: 202, body: { alias }, requestId });
    const alertId = opsgenie.requests.get(requestId)!.alertId;
    for (const [cmd, type, data] of [
      [`post-${alias}`, 'SlackMessagePosted', { ts: root.ts, purpose: 'root' }],
      [`page-${alias}`, 'PagerAlertCreated', { alertId }],
    ] as const) {
      obs.commands.push({ topic: 'commands', partition: 0, offset: String(obs.commands.length), event: ev('Command', alias, {}, cmd) });
      obs.deliveries.push(ev(type, alias, { commandId: cmd, incidentId, ...data }, `d-${cmd}`));
    }
    const resolved = exp.resolved.includes(alias);
    if (resolved) {
      obs.incidents.push(ev('IncidentResolved', alias, { incidentId }));
      slack.store({
        channel: 'C0ALERTS',
        ts: slack.nextTs(),
        thread_ts: root.ts,
        text: 'resolved',
        user: 'U0ALERTBUS',
        updates: 0,
        metadata: { event_type: 'alertbus_command', event_payload: { command_id: `reply-${alias}`, incident_id: incidentId } },
      });
      root.updates = 1;
      opsgenie.action('close', alias, 'alias', {});
      opsgenie.calls.push({ at: '', method: 'POST', url: '', route: 'close', flavour: 'opsgenie', status: 202, identifier: alias, identifierType: 'alias' });
    }
    obs.history!.push({ incident_id: incidentId, alias, status: resolved ? 'resolved' : 'open', slack_root_ts: root.ts, pager_alert_id: alertId });
  }
  return { obs, slack, opsgenie };
}

const count = (w: World) => summarize(w.obs, exp, w.slack, w.opsgenie).summary;

test('a healthy run counts as expected, drained and projected', () => {
  const w = healthy();
  expect(count(w)).toEqual(expectedSummary(exp));
  expect(drained(w.obs, exp)).toBe(true);
  expect(historyCaughtUp(w.obs, exp)).toBe(true);
});

test('a page never made, and a page made twice, are both counted', () => {
  const w = healthy();
  w.opsgenie.calls.splice(w.opsgenie.calls.findIndex((c) => (c.body as { alias?: string })?.alias === 'am:c'), 1);
  w.opsgenie.calls.push({ at: '', method: 'POST', url: '/v2/alerts', route: 'create', flavour: 'opsgenie', status: 202, body: { alias: 'am:b' } });
  w.opsgenie.calls.push({ at: '', method: 'POST', url: '/v2/alerts', route: 'create', flavour: 'opsgenie', status: 503, body: { alias: 'am:b' }, fault: true });
  expect(count(w)).toMatchObject({ pagedOnce: 1, extraPages: 1 });
});

test('a lost root post and a post made twice are counted', () => {
  const w = healthy();
  w.slack.messages.splice(w.slack.messages.findIndex((m) => m.text === 'am:c'), 1);
  const b = w.slack.messages.find((m) => m.text === 'am:b')!;
  w.slack.store({ ...b, ts: w.slack.nextTs() });
  expect(count(w)).toMatchObject({ postedOnce: 1, extraPosts: 1, inHistory: 2 });
});

test('a late copy that reopens a resolved incident shows as an extra incident; a dead letter and a failure are counted', () => {
  const w = healthy();
  w.obs.incidents.push(ev('IncidentOpened', 'am:a', { incidentId: 'inc-am:a-2' }, 'reopened'));
  w.obs.deadLetters.push(ev('DeadLettered', 'am:b', { origin: { topic: 'commands', partition: 0, offset: '2' } }));
  w.obs.deliveries.push(ev('DeliveryFailed', 'am:b', { commandId: 'x', error: 'HTTP 503' }));
  expect(count(w)).toMatchObject({ openedOnce: 2, extraIncidents: 1, deadLettered: 1, deliveryFailed: 1 });
});

test('a close that never happened leaves the resolved alert counted short', () => {
  const w = healthy();
  w.opsgenie.alerts.find((a) => a.alias === 'am:a')!.status = 'open';
  expect(count(w)).toMatchObject({ closedOnce: 0 });
});

test('not drained while a command has no outcome (a DeliveryDelayed is not one), drained once it is dead-lettered', () => {
  const w = healthy();
  w.obs.commands.push({ topic: 'commands', partition: 1, offset: '9', event: ev('CreatePagerAlert', 'am:c', {}, 'waiting') });
  w.obs.deliveries.push(ev('DeliveryDelayed', 'am:c', { commandId: 'waiting' }));
  expect(drained(w.obs, exp)).toBe(false);
  w.obs.deadLetters.push(ev('DeadLettered', 'am:c', { origin: { topic: 'commands', partition: 1, offset: '9' } }));
  expect(drained(w.obs, exp)).toBe(true);
});

test('history has not caught up while it lacks an incident or a pager alert id the deliveries recorded', () => {
  const w = healthy();
  w.obs.history![1]!.pager_alert_id = null;
  expect(historyCaughtUp(w.obs, exp)).toBe(false);
  w.obs.history!.pop();
  expect(historyCaughtUp(healthy().obs, exp)).toBe(true);
  expect(historyCaughtUp(w.obs, exp)).toBe(false);
});

test('commands that waited are counted once each, by target', () => {
  const w = healthy();
  expect(delayedCommands(w.obs)).toEqual({ slack: 0, pager: 0 });
  w.obs.deliveries.push(ev('DeliveryDelayed', 'am:b', { commandId: 'page-am:b', target: 'pager' }, 'dd1'));
  w.obs.deliveries.push(ev('DeliveryDelayed', 'am:b', { commandId: 'page-am:b', target: 'pager' }, 'dd2'));
  w.obs.deliveries.push(ev('DeliveryDelayed', 'am:c', { commandId: 'post-am:c', target: 'slack' }, 'dd3'));
  expect(delayedCommands(w.obs)).toEqual({ slack: 1, pager: 1 });
});

test('an alert given up on without an answer may have been written once, never twice', () => {
  // am:c's firing got no 2xx: the stream gave up on it, though Kafka may have taken it before ingest died.
  const gaveUp: Expectation = { accepted: ['am:a', 'am:b'], resolved: ['am:a'], unanswered: ['am:c'] };
  const w = healthy();
  expect(summarize(w.obs, gaveUp, w.slack, w.opsgenie).summary).toEqual(expectedSummary(gaveUp));
  // Without knowing it was sent at all, its incident, post and page are extras.
  const never: Expectation = { accepted: ['am:a', 'am:b'], resolved: ['am:a'] };
  expect(summarize(w.obs, never, w.slack, w.opsgenie).summary).toMatchObject({ extraIncidents: 1, extraPosts: 1, extraPages: 1 });
  // Written twice is a duplicate all the same.
  w.obs.incidents.push(ev('IncidentOpened', 'am:c', { incidentId: 'inc-am:c-again' }, 'again'));
  w.opsgenie.calls.push({ at: '', method: 'POST', url: '/v2/alerts', route: 'create', flavour: 'opsgenie', status: 202, body: { alias: 'am:c' } });
  expect(summarize(w.obs, gaveUp, w.slack, w.opsgenie).summary).toMatchObject({ extraIncidents: 1, extraPages: 1, extraPosts: 0 });
});
