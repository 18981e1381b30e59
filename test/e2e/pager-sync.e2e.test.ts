/**
 * The way back from the pager, end to end over HTTP with every service as its own process: Acknowledge and Close
 * taken in Opsgenie come in through ingest's /webhooks/opsgenie (the body of Opsgenie's Webhook integration, as its
 * docs show it, or as the Opsgenie stand-in posts it), and the router acknowledges / resolves the incident: the Slack
 * root is updated in place, the thread says who did it in the pager, history records that user, and nothing goes back
 * to the pager. An ack alertbus made itself (a Slack button) comes back from the pager too, and changes nothing more.
 */
import { dropTestDatabase } from '../support/db';
import { docsActionBody } from '../support/opsgenie-webhook';
import { alertmanagerBody, pagerStackIo, startPagerStack, type Incident } from '../support/pager-stack';
import { buttonClick, type StandInMessage } from '../support/slack-requests';
import type { FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const SECRET = 'e2e-slack-signing-secret-pager';

let full: FullStack;

const { messages, replies, pagerAlerts, incidentsOf, timelineOf, postAlertmanager, postPagerWebhook, actInPager, postInteraction } = pagerStackIo(() => full, SECRET);
const rootUpdates = (root: StandInMessage) => full.slack.state.calls.filter((c) => c.method === 'chat.update' && c.args.ts === root.ts && c.status === 200);
/** The pager API calls made for the alias (through its alias, as alertbus makes them) of one kind. */
const pagerCalls = (route: string, alias: string) =>
  full.opsgenie.state.calls.filter((c) => c.route === route && c.status < 300 && (c.identifier === alias || JSON.stringify(c.body ?? {}).includes(alias)));

async function decided(incidentId: string, type: string, reason: string): Promise<void> {
  await waitFor(async () => (await timelineOf(incidentId)).some((e) => e.type === type && e.reason === reason), { what: `${type} (${reason}) for ${incidentId}` });
}

async function fire(fingerprint: string): Promise<void> {
  await postAlertmanager(alertmanagerBody(fingerprint, 'firing'));
}

/** Fires an Alertmanager alert and waits for its root in #alerts, its pager alert and its open incident. */
async function pagedAlert(fingerprint: string): Promise<{ alias: string; root: StandInMessage; incident: Incident }> {
  await fire(fingerprint);
  const alias = `alertmanager:${fingerprint}`;
  const root = await waitFor(() => messages().find((m) => m.channel === 'C0ALERTS' && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(alias)), {
    what: `the root message of ${alias}`,
  });
  await waitFor(() => pagerAlerts(alias).length === 1, { what: `the pager alert of ${alias}` });
  const [incident] = await waitFor(async () => ((await incidentsOf(alias)).length === 1 ? incidentsOf(alias) : undefined), { what: `the incident of ${alias}` });
  return { alias, root, incident: incident! };
}

/**
 * Fires the alert once more after it was resolved: a new occurrence, whose root post and page reach the stand-ins
 * after every command the router made for the alias before (one partition, in order), so what came before is final.
 */
async function everythingBeforeDelivered(fingerprint: string, alias: string, pagesBefore: number): Promise<void> {
  await fire(fingerprint);
  await waitFor(() => pagerAlerts(alias).length === pagesBefore + 1, { what: `the next occurrence of ${alias} paged` });
  await waitFor(() => messages().filter((m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(alias)).length === 2, { what: `the next occurrence of ${alias} posted` });
}

beforeAll(async () => {
  full = await startPagerStack(SECRET);
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('Acknowledge and Close taken in Opsgenie acknowledge and resolve the incident in Slack and history, and nothing goes back to the pager', async () => {
  const fingerprint = 'e2e0pager0ack0close';
  const { alias, root, incident } = await pagedAlert(fingerprint);
  const alert = pagerAlerts(alias)[0]!;
  expect(alert.alias).toBe(alias);
  const updatesBefore = rootUpdates(root).length;

  // Acknowledge in the pager: Opsgenie's webhook, the docs' sample body on the alias alertbus gave the pager alert.
  await postPagerWebhook(docsActionBody('Acknowledge', alert, 'pager-person@example.com'));
  await waitFor(async () => (await incidentsOf(alias))[0]?.status === 'acknowledged', { what: 'the incident acknowledged in history' });
  expect((await incidentsOf(alias))[0]).toMatchObject({ status: 'acknowledged', acknowledged_by: 'pager-person@example.com' });
  await waitFor(() => rootUpdates(root).length > updatesBefore && /ACKNOWLEDGED/.test(root.text), { what: 'the root updated to acknowledged (chat.update)' });
  expect(JSON.stringify(rootUpdates(root).at(-1)!.args)).toMatch(/ACKNOWLEDGED/);
  await waitFor(() => replies(root).some((r) => r.text === 'Acknowledged in Opsgenie by pager-person@example.com.'), { what: 'the thread note of the pager ack' });

  // Close in the pager (its app, through the pager's API): the stand-in posts the Close webhook as Opsgenie does.
  await actInPager('close', alias, 'pager-person@example.com');
  await waitFor(async () => (await incidentsOf(alias))[0]?.status === 'resolved', { what: 'the incident resolved in history' });
  expect((await incidentsOf(alias))[0]).toMatchObject({
    status: 'resolved',
    acknowledged_by: 'pager-person@example.com',
    acknowledged_by_name: 'pager-person@example.com',
    resolved_by: 'pager-person@example.com',
    resolved_by_name: 'pager-person@example.com',
  });
  await waitFor(() => /RESOLVED/.test(root.text) && !(root.blocks ?? []).some((b) => b.type === 'actions'), { what: 'the root resolved, without buttons' });
  expect(JSON.stringify(rootUpdates(root).at(-1)!.args)).toMatch(/RESOLVED/);
  await waitFor(() => replies(root).some((r) => r.text.startsWith('Resolved in Opsgenie by pager-person@example.com')), { what: 'the thread note of the pager close' });

  await everythingBeforeDelivered(fingerprint, alias, 1);
  // alertbus made no ack and no close of its own: the only close is the one made in the pager.
  expect(pagerCalls('acknowledge', alias)).toHaveLength(0);
  expect(pagerCalls('close', alias).map((c) => (c.body as { user?: string }).user)).toEqual(['pager-person@example.com']);
  expect(replies(root).filter((r) => /Opsgenie/.test(r.text)).map((r) => r.text.split(':')[0])).toEqual([
    'Acknowledged in Opsgenie by pager-person@example.com.',
    'Resolved in Opsgenie by pager-person@example.com',
  ]);
  const timeline = await timelineOf(incident.incident_id);
  expect(timeline.filter((e) => e.type === 'IncidentAcknowledged')).toHaveLength(1);
  expect(timeline.filter((e) => e.type === 'IncidentResolved')).toHaveLength(1);
});

test('UnAcknowledge taken in Opsgenie after an ack there opens the incident again in Slack (buttons back) and history, and an ack in Slack then reaches the pager', async () => {
  const fingerprint = 'e2e0pager0unack';
  const { alias, root, incident } = await pagedAlert(fingerprint);

  await actInPager('acknowledge', alias, 'pager-person@example.com');
  await waitFor(async () => (await incidentsOf(alias))[0]?.status === 'acknowledged', { what: 'the incident acknowledged in history' });
  await waitFor(() => /ACKNOWLEDGED/.test(root.text), { what: 'the root updated to acknowledged' });

  // UnAcknowledge in the pager's app: the pager escalates again, and its webhook says so.
  await actInPager('unacknowledge', alias, 'night-owl@example.com');
  await waitFor(async () => (await incidentsOf(alias))[0]?.status === 'open', { what: 'the incident open again in history' });
  expect((await incidentsOf(alias))[0]).toMatchObject({ status: 'open', acknowledged_at: null, acknowledged_by: null });
  await waitFor(() => !/ACKNOWLEDGED/.test(root.text) && (root.blocks ?? []).some((b) => b.type === 'actions'), { what: 'the root open again, with its buttons' });
  await waitFor(() => replies(root).some((r) => r.text === 'Unacknowledged in Opsgenie by night-owl@example.com: the pager escalates again.'), {
    what: 'the thread note of the pager unack',
  });
  const timeline = await timelineOf(incident.incident_id);
  expect(timeline.filter((e) => e.type === 'IncidentUnacknowledged')).toHaveLength(1);

  // The buttons work again: an ack clicked in Slack acknowledges the pager alert alertbus had left to the pager.
  await postInteraction(buttonClick(root, 'alertbus_ack', { id: 'U0BOB', username: 'bob' }));
  await waitFor(() => pagerAlerts(alias)[0]?.acknowledged === true, { what: 'the pager alert acknowledged from Slack' });
  await waitFor(async () => (await incidentsOf(alias))[0]?.acknowledged_by === 'U0BOB', { what: 'the incident acknowledged by the Slack user' });
  expect(pagerCalls('acknowledge', alias).map((c) => (c.body as { user?: string }).user)).toEqual(['pager-person@example.com', 'bob']);
});

test('an ack clicked in Slack reaches the pager, whose webhook reports it back: one thread note, one pager call, the echo recorded as suppressed', async () => {
  const fingerprint = 'e2e0pager0echo';
  const { alias, root, incident } = await pagedAlert(fingerprint);

  await postInteraction(buttonClick(root, 'alertbus_ack', { id: 'U0BOB', username: 'bob' }));
  await waitFor(() => pagerAlerts(alias)[0]?.acknowledged === true, { what: 'the pager alert acknowledged by alertbus' });
  // The pager reports alertbus's own ack back through its webhook, and the router records it as nothing new.
  await waitFor(() => full.opsgenie.webhook.deliveries.some((d) => d.alias === alias && d.action === 'Acknowledge' && d.status === 202), { what: 'the pager\'s Acknowledge webhook taken by ingest' });
  await decided(incident.incident_id, 'EventSuppressed', 'already-acknowledged');

  await postInteraction(buttonClick(root, 'alertbus_resolve', { id: 'U0BOB', username: 'bob' }));
  await waitFor(() => pagerAlerts(alias)[0]?.status === 'closed', { what: 'the pager alert closed by alertbus' });
  await waitFor(() => full.opsgenie.webhook.deliveries.some((d) => d.alias === alias && d.action === 'Close' && d.status === 202), { what: 'the pager\'s Close webhook taken by ingest' });
  await decided(incident.incident_id, 'EventSuppressed', 'already-resolved');

  await everythingBeforeDelivered(fingerprint, alias, 1);
  expect(pagerCalls('acknowledge', alias)).toHaveLength(1);
  expect(pagerCalls('close', alias)).toHaveLength(1);
  expect(replies(root).filter((r) => /^Acknowledged/.test(r.text)).map((r) => r.text)).toEqual(['Acknowledged by <@U0BOB>.']);
  expect(replies(root).filter((r) => /^Resolved/.test(r.text))).toHaveLength(1);
  expect(replies(root).some((r) => /Opsgenie/.test(r.text))).toBe(false);
  expect((await incidentsOf(alias)).find((i) => i.incident_id === incident.incident_id)).toMatchObject({ status: 'resolved', acknowledged_by: 'U0BOB', resolved_by: 'U0BOB' });
  const timeline = await timelineOf(incident.incident_id);
  expect(timeline.filter((e) => e.type === 'IncidentAcknowledged')).toHaveLength(1);
  expect(timeline.filter((e) => e.type === 'IncidentResolved')).toHaveLength(1);
});
