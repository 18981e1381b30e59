/**
 * The way back from the pager for a rule with a templated `pager.alias`, end to end over HTTP with every service as its
 * own process: incidents of one host page through one pager alert (alias `pager:host-{host}`, not theirs), so the pager's
 * webhook arrives keyed by that alias. Acknowledge and Close taken in Opsgenie still reach every incident paged under
 * it, and alertbus's own ack of the shared pager alert (clicked in Slack for one incident) reaches none of the others.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropTestDatabase } from '../support/db';
import { alertmanagerBody, pagerStackIo, startPagerStack, type Incident } from '../support/pager-stack';
import { buttonClick, type StandInMessage } from '../support/slack-requests';
import type { FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const SECRET = 'e2e-slack-signing-secret-pager-alias';
const RULES = 'defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P2, alias: "host-{{ labels.host }}" }\n';

let full: FullStack;

const { messages, replies, pagerAlerts, incidentsOf, timelineOf, postAlertmanager, postPagerWebhook, actInPager, postInteraction } = pagerStackIo(() => full, SECRET);
/** The pager API calls of one kind made on the pager alias, by whom. */
const pagerCallUsers = (route: string, alias: string) =>
  full.opsgenie.state.calls.filter((c) => c.route === route && c.status < 300 && c.identifier === alias).map((c) => (c.body as { user?: string }).user);

/** Fires an Alertmanager alert of `host` and waits for its root in #alerts and its open incident. */
async function fire(fingerprint: string, host: string): Promise<{ alias: string; root: StandInMessage; incident: Incident }> {
  await postAlertmanager(alertmanagerBody(fingerprint, 'firing', { host }));
  const alias = `alertmanager:${fingerprint}`;
  const root = await waitFor(() => messages().find((m) => m.channel === 'C0ALERTS' && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(alias)), {
    what: `the root message of ${alias}`,
  });
  const [incident] = await waitFor(async () => ((await incidentsOf(alias)).length === 1 ? incidentsOf(alias) : undefined), { what: `the incident of ${alias}` });
  return { alias, root, incident: incident! };
}

/** Two incidents of one host, paged through one pager alert under the host's alias (the pager counts the second create). */
async function twoOnOnePage(host: string): Promise<{ pagerAlias: string; a: Awaited<ReturnType<typeof fire>>; b: Awaited<ReturnType<typeof fire>> }> {
  const pagerAlias = `pager:host-${host}`;
  const a = await fire(`${host}0a`, host);
  const b = await fire(`${host}0b`, host);
  await waitFor(() => pagerAlerts(pagerAlias)[0]?.count === 2, { what: `both incidents paged through ${pagerAlias}` });
  expect(pagerAlerts(pagerAlias)).toHaveLength(1);
  expect(pagerAlerts(a.alias)).toHaveLength(0);
  return { pagerAlias, a, b };
}

/** Opsgenie's Webhook integration body (https://docs.opsgenie.com/docs/marid-alert-action-data) of an action a person took in its web UI. */
async function postPagerAction(action: 'Acknowledge' | 'Close', alert: { id: string; alias: string; tinyId: string; createdAt: string }, username: string): Promise<void> {
  await postPagerWebhook({
    source: { name: '', type: 'web' },
    alert: { alertId: alert.id, alias: alert.alias, tinyId: alert.tinyId, username, createdAt: Date.parse(alert.createdAt), message: 'test alert', tags: [] },
    action,
    integrationId: '37c8f316-17c6-49d7-899b-9c7e540c048d',
    integrationName: 'alertbus',
  });
}

beforeAll(async () => {
  const rulesPath = join(mkdtempSync(join(tmpdir(), 'alertbus-pager-alias-e2e-')), 'rules.yaml');
  writeFileSync(rulesPath, RULES);
  full = await startPagerStack(SECRET, { ROUTING_RULES: rulesPath });
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('Acknowledge and Close of a pager alert under a templated alias acknowledge and resolve both incidents paged through it, and nothing goes back to the pager', async () => {
  const { pagerAlias, a, b } = await twoOnOnePage('andromeda');

  await actInPager('acknowledge', pagerAlias, 'pager-person@example.com');
  for (const { alias, root } of [a, b]) {
    await waitFor(async () => (await incidentsOf(alias))[0]?.status === 'acknowledged', { what: `${alias} acknowledged in history` });
    expect((await incidentsOf(alias))[0]).toMatchObject({ status: 'acknowledged', acknowledged_by: 'pager-person@example.com' });
    await waitFor(() => replies(root).some((r) => r.text === 'Acknowledged in Opsgenie by pager-person@example.com.'), { what: `the thread note of the pager ack for ${alias}` });
  }

  await actInPager('close', pagerAlias, 'pager-person@example.com');
  for (const { alias, root } of [a, b]) {
    await waitFor(async () => (await incidentsOf(alias))[0]?.status === 'resolved', { what: `${alias} resolved in history` });
    expect((await incidentsOf(alias))[0]).toMatchObject({ status: 'resolved', resolved_by: 'pager-person@example.com' });
    await waitFor(() => /RESOLVED/.test(root.text), { what: `the root of ${alias} resolved` });
    await waitFor(() => replies(root).some((r) => r.text.startsWith('Resolved in Opsgenie by pager-person@example.com')), { what: `the thread note of the pager close for ${alias}` });
  }
  for (const { incident } of [a, b]) {
    const timeline = await timelineOf(incident.incident_id);
    expect(timeline.filter((e) => e.type === 'IncidentAcknowledged')).toHaveLength(1);
    expect(timeline.filter((e) => e.type === 'IncidentResolved')).toHaveLength(1);
    expect(timeline.filter((e) => e.type === 'PagerActionForwarded')).toHaveLength(2);
  }
  // The only ack and close of the pager alert are the ones made in the pager.
  expect(pagerCallUsers('acknowledge', pagerAlias)).toEqual(['pager-person@example.com']);
  expect(pagerCallUsers('close', pagerAlias)).toEqual(['pager-person@example.com']);
});

test('an ack clicked in Slack for one incident acknowledges the shared pager alert, and its echo acknowledges none of the others', async () => {
  const { pagerAlias, a, b } = await twoOnOnePage('pegasus');

  await postInteraction(buttonClick(a.root, 'alertbus_ack', { id: 'U0BOB', username: 'bob' }));
  await waitFor(() => pagerAlerts(pagerAlias)[0]?.acknowledged === true, { what: 'the shared pager alert acknowledged by alertbus' });
  await waitFor(() => full.opsgenie.webhook.deliveries.some((d) => d.alias === pagerAlias && d.action === 'Acknowledge' && d.status === 202), {
    what: "the pager's Acknowledge webhook taken by ingest",
  });
  // Then the pager reports a person's ack of it (its web UI): decided after the echo (same key, same partition), it is the
  // one that acknowledges the other incident.
  await postPagerAction('Acknowledge', pagerAlerts(pagerAlias)[0]!, 'pager-person@example.com');
  await waitFor(async () => (await incidentsOf(b.alias))[0]?.status === 'acknowledged', { what: `${b.alias} acknowledged in history` });
  expect((await incidentsOf(b.alias))[0]).toMatchObject({ acknowledged_by: 'pager-person@example.com' });
  await waitFor(async () => (await timelineOf(a.incident.incident_id)).some((e) => e.type === 'EventSuppressed' && e.reason === 'already-acknowledged'), {
    what: `the pager ack recorded as already acknowledged for ${a.alias}`,
  });
  expect((await incidentsOf(a.alias))[0]).toMatchObject({ status: 'acknowledged', acknowledged_by: 'U0BOB' });
  expect((await timelineOf(b.incident.incident_id)).filter((e) => e.type === 'IncidentAcknowledged')).toHaveLength(1);
  expect(replies(b.root).filter((r) => /^Acknowledged/.test(r.text)).map((r) => r.text)).toEqual(['Acknowledged in Opsgenie by pager-person@example.com.']);
  expect(replies(a.root).some((r) => /Opsgenie/.test(r.text))).toBe(false);
});
