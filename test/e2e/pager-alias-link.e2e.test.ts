/**
 * The way back from the pager for a rule with a templated `pager.alias`, end to end over HTTP with every service as its
 * own process: incidents of one host page through one pager alert (alias `host-{host}`, not theirs), so the pager's
 * webhook arrives keyed by that alias. Acknowledge and Close taken in Opsgenie still reach every incident paged under
 * it, and alertbus's own ack of the shared pager alert (clicked in Slack for one incident) reaches none of the others.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dropTestDatabase } from '../support/db';
import { buttonClick, E2E_APP, slackHeaders, type StandInMessage } from '../support/slack-requests';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const fixture = (p: string) => readFileSync(resolve(__dirname, '../../../shared/fixtures', p), 'utf8');

const SECRET = 'e2e-slack-signing-secret-pager-alias';
const SOURCE_TOKEN = 'alertmanager-token-0123456789';
const PAGER_TOKEN = 'opsgenie-token-0123456789';
const GENIE_KEY = 'e2e-key';
const RULES = 'defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P2, alias: "host-{{ labels.host }}" }\n';

let full: FullStack;

interface Incident {
  incident_id: string;
  alias: string;
  status: string;
  acknowledged_by: string | null;
  resolved_by: string | null;
}
interface TimelineEntry {
  type: string;
  reason: string | null;
}

const messages = () => full.slack.state.messages as StandInMessage[];
const replies = (root: StandInMessage) => messages().filter((m) => m.channel === root.channel && m.thread_ts === root.ts && m.user === E2E_APP.userId);
const pagerAlerts = (alias: string) => full.opsgenie.state.alerts.filter((a) => a.alias === alias);
/** The pager API calls of one kind made on the pager alias, by whom. */
const pagerCallUsers = (route: string, alias: string) =>
  full.opsgenie.state.calls.filter((c) => c.route === route && c.status < 300 && c.identifier === alias).map((c) => (c.body as { user?: string }).user);

async function incidentsOf(alias: string): Promise<Incident[]> {
  return (await full.json<{ incidents: Incident[] }>('history', `/api/incidents?alias=${encodeURIComponent(alias)}`)).incidents;
}
async function timelineOf(incidentId: string): Promise<TimelineEntry[]> {
  return (await full.json<{ timeline: TimelineEntry[] }>('history', `/api/incidents/${incidentId}`)).timeline;
}

function alertmanagerBody(fingerprint: string, host: string): string {
  const body = JSON.parse(fixture('alertmanager/zulip_resolved_single.json'));
  body.status = 'firing';
  body.alerts[0].status = 'firing';
  body.alerts[0].fingerprint = fingerprint;
  body.alerts[0].labels.host = host;
  return JSON.stringify(body);
}

/** Fires an Alertmanager alert of `host` and waits for its root in #alerts and its open incident. */
async function fire(fingerprint: string, host: string): Promise<{ alias: string; root: StandInMessage; incident: Incident }> {
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${SOURCE_TOKEN}` },
    body: alertmanagerBody(fingerprint, host),
  });
  expect(res.status).toBe(202);
  const alias = `alertmanager:${fingerprint}`;
  const root = await waitFor(() => messages().find((m) => m.channel === 'C0ALERTS' && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(alias)), {
    what: `the root message of ${alias}`,
  });
  const [incident] = await waitFor(async () => ((await incidentsOf(alias)).length === 1 ? incidentsOf(alias) : undefined), { what: `the incident of ${alias}` });
  return { alias, root, incident: incident! };
}

/** Two incidents of one host, paged through one pager alert under the host's alias (the pager counts the second create). */
async function twoOnOnePage(host: string): Promise<{ pagerAlias: string; a: Awaited<ReturnType<typeof fire>>; b: Awaited<ReturnType<typeof fire>> }> {
  const pagerAlias = `host-${host}`;
  const a = await fire(`${host}0a`, host);
  const b = await fire(`${host}0b`, host);
  await waitFor(() => pagerAlerts(pagerAlias)[0]?.count === 2, { what: `both incidents paged through ${pagerAlias}` });
  expect(pagerAlerts(pagerAlias)).toHaveLength(1);
  expect(pagerAlerts(a.alias)).toHaveLength(0);
  return { pagerAlias, a, b };
}

/** An action somebody takes on the pager alert in Opsgenie itself (its app): through the stand-in's API, which posts the webhook. */
async function actInPager(kind: 'acknowledge' | 'close', alias: string, user: string): Promise<void> {
  const res = await fetch(`${full.opsgenie.url}/v2/alerts/${encodeURIComponent(alias)}/${kind}?identifierType=alias`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `GenieKey ${GENIE_KEY}` },
    body: JSON.stringify({ user, source: 'Opsgenie mobile app' }),
  });
  expect(res.status).toBe(202);
}

/** Opsgenie's Webhook integration body (https://docs.opsgenie.com/docs/marid-alert-action-data) of an action a person took in its web UI. */
async function postPagerWebhook(action: 'Acknowledge' | 'Close', alert: { id: string; alias: string; tinyId: string; createdAt: string }, username: string): Promise<void> {
  const body = {
    source: { name: '', type: 'web' },
    alert: { alertId: alert.id, alias: alert.alias, tinyId: alert.tinyId, username, createdAt: Date.parse(alert.createdAt), message: 'test alert', tags: [] },
    action,
    integrationId: '37c8f316-17c6-49d7-899b-9c7e540c048d',
    integrationName: 'alertbus',
  };
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/opsgenie`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${PAGER_TOKEN}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
}

async function postInteraction(payload: unknown): Promise<void> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`${full.stack.url('ingest')}/slack/interactions`, {
    method: 'POST',
    headers: slackHeaders(body, SECRET, { contentType: 'application/x-www-form-urlencoded' }),
    body,
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  const rulesPath = join(mkdtempSync(join(tmpdir(), 'alertbus-pager-alias-e2e-')), 'rules.yaml');
  writeFileSync(rulesPath, RULES);
  full = await startFullStack({ SLACK_SIGNING_SECRET: SECRET, ROUTING_RULES: rulesPath, INGEST_TOKENS: `alertmanager:${SOURCE_TOKEN},opsgenie:${PAGER_TOKEN}` });
  full.opsgenie.webhook.configure({ url: `${full.stack.url('ingest')}/webhooks/opsgenie`, authorization: `Bearer ${PAGER_TOKEN}` });
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
  await postPagerWebhook('Acknowledge', pagerAlerts(pagerAlias)[0]!, 'pager-person@example.com');
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
