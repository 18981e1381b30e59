/**
 * Forged, stale, tampered and replayed Slack requests against the whole stack: whatever is not signed by
 * Slack within the last five minutes is refused with 401 and reaches nothing (no record on Kafka, no reply,
 * no page, no incident); a genuine request replayed within the window is recorded again but has no second
 * effect, because the router deduplicates by the message's alias.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TOPICS } from '@alertbus/schemas';
import { dropTestDatabase } from '../support/db';
import { readTopic, testKafka } from '../support/kafka';
import { E2E_APP, E2E_TEAM, type StandInMessage } from '../support/slack-requests';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const fixture = <T = Record<string, any>>(p: string): T => JSON.parse(readFileSync(resolve(__dirname, '../../../shared/fixtures', p), 'utf8')) as T; // eslint-disable-line @typescript-eslint/no-explicit-any

const SECRET = 'forgery-e2e-signing-secret-5a6b';
const TEAM = E2E_TEAM;
const APP = E2E_APP;

let full: FullStack;

const messages = () => full.slack.state.messages as StandInMessage[];
const replies = (channel: string, ts: string) => messages().filter((m) => m.channel === channel && m.thread_ts === ts && m.user === APP.userId);
const aliasOf = (channel: string, ts: string) => `slack:${TEAM}:${channel}:${ts}`;

function sign(body: string, ts: number, secret = SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
}

const now = () => Math.floor(Date.now() / 1000);

function post(path: '/slack/events' | '/slack/interactions', body: string, headers: Record<string, string | undefined>): Promise<Response> {
  const contentType = path === '/slack/events' ? 'application/json' : 'application/x-www-form-urlencoded';
  const sent = Object.fromEntries(Object.entries({ 'content-type': contentType, ...headers }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return fetch(`${full.stack.url('ingest')}${path}`, { method: 'POST', headers: sent, body });
}

/** Genuine Slack headers for this body, signed now (or `age` seconds ago). */
const signed = (body: string, age = 0) => {
  const ts = now() - age;
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sign(body, ts) };
};

/** An app_mention event_callback (the fixture) about a message someone wrote in the stand-in workspace. */
function mentionOf(text: string): { body: string; message: StandInMessage } {
  const message = full.slack.state.addMessage({ channel: 'C0OPS', user: 'U0ALICE', text: `<@${APP.userId}> ${text}` }) as StandInMessage;
  const body = fixture('slack/event_callback_app_mention.json');
  body.team_id = TEAM;
  body.event_id = `Ev${message.ts.replace('.', '')}`;
  body.event_time = Math.floor(Number(message.ts));
  Object.assign(body.event, { text: message.text, user: message.user, ts: message.ts, event_ts: message.ts, channel: message.channel, team: TEAM });
  return { body: JSON.stringify(body), message };
}

async function slackRecordsFor(alias: string): Promise<number> {
  const kafka = await testKafka('e2e-forgery-reader');
  return (await readTopic(kafka, TOPICS.slackReceived)).filter((r) => r.key === alias).length;
}

async function incidentsOf(alias: string): Promise<Array<{ incident_id: string; status: string }>> {
  return (await full.json<{ incidents: Array<{ incident_id: string; status: string }> }>('history', `/api/incidents?alias=${encodeURIComponent(alias)}`)).incidents;
}

async function timelineOf(incidentId: string): Promise<Array<{ type: string; reason: string | null }>> {
  return (await full.json<{ timeline: Array<{ type: string; reason: string | null }> }>('history', `/api/incidents/${incidentId}`)).timeline;
}

beforeAll(async () => {
  full = await startFullStack(
    { SLACK_SIGNING_SECRET: SECRET, ONCALL_SCHEDULE: 'ops' },
    {
      slackChannels: [{ id: 'C0OPS', name: 'ops' }],
      slackUsers: [{ id: 'U0ALICE', name: 'alice', email: 'alice@example.com' }],
      onCall: { ops: ['alice@example.com'] },
    },
  );
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('forged, stale, unsigned and tampered requests get 401 and reach nothing; the genuine one next to them does', async () => {
  const { body, message } = mentionOf('the checkout is down, forged');
  const alias = aliasOf('C0OPS', message.ts);
  const ts = now();
  const tampered = body.replace('the checkout is down', 'everything is down');
  expect(tampered).not.toBe(body);
  const forgeries: Array<[string, string, Record<string, string | undefined>]> = [
    ['signed with another secret', body, { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sign(body, ts, 'not-the-secret') }],
    ['a signature that is not v0 hex', body, { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': 'v0=not-hex' }],
    ['signed six minutes ago (stale)', body, signed(body, 6 * 60)],
    ['signed for six minutes from now', body, signed(body, -6 * 60)],
    ['no signature header', body, { 'x-slack-request-timestamp': String(ts) }],
    ['no timestamp header', body, { 'x-slack-signature': sign(body, ts) }],
    ['no Slack headers at all', body, {}],
    ['the body altered after signing', tampered, signed(body)],
    ['a stale signature sent with a fresh timestamp', body, { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sign(body, ts - 6 * 60) }],
  ];
  for (const [what, sent, headers] of forgeries) {
    const res = await post('/slack/events', sent, headers);
    expect({ what, status: res.status }).toEqual({ what, status: 401 });
    const answer = (await res.json()) as { error: string; message: string };
    expect(answer.error).toBe('unauthorized');
    expect(answer.message).toMatch(/^invalid Slack request signature/);
    expect(JSON.stringify(answer)).not.toContain(SECRET);
  }

  // Interactions are signed the same way: a forged or tampered button click is refused too.
  const click = new URLSearchParams({ payload: JSON.stringify(fixture('slack/block_actions_button_docs_example.json')) }).toString();
  expect((await post('/slack/interactions', click, { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sign(click, ts, 'nope') })).status).toBe(401);
  expect((await post('/slack/interactions', click.replace('UA8RXUSPL', 'U0MALLORY'), signed(click))).status).toBe(401);

  // A genuine mention sent after the forgeries is answered: once it has been, the forged one would have been too.
  const genuine = mentionOf('please page someone, genuine');
  expect((await post('/slack/events', genuine.body, signed(genuine.body))).status).toBe(200);
  await waitFor(() => replies('C0OPS', genuine.message.ts).length === 2, { what: 'the genuine request answered' });

  expect(await slackRecordsFor(alias)).toBe(0);
  expect(replies('C0OPS', message.ts)).toEqual([]);
  expect(full.opsgenie.state.alerts.filter((a) => a.alias === alias)).toEqual([]);
  expect(await incidentsOf(alias)).toEqual([]);
});

test('a genuine request replayed within the window is recorded again but has no second effect: one incident, one answer', async () => {
  const { body, message } = mentionOf('the database is down, replayed');
  const alias = aliasOf('C0OPS', message.ts);
  const headers = signed(body);
  expect((await post('/slack/events', body, headers)).status).toBe(200);
  await waitFor(() => replies('C0OPS', message.ts).length === 2, { what: 'the on-call answer in the thread' });
  const [incident] = await waitFor(async () => ((await incidentsOf(alias)).length === 1 ? incidentsOf(alias) : undefined), { what: 'the incident' });
  const answered = replies('C0OPS', message.ts).map((r) => r.text);
  const paged = full.opsgenie.state.alerts.filter((a) => a.alias === alias).length;

  // The same bytes with the same headers, twice, as someone who captured them would send them.
  for (let i = 0; i < 2; i++) expect((await post('/slack/events', body, headers)).status).toBe(200);
  expect(await slackRecordsFor(alias)).toBe(3);
  await waitFor(async () => (await timelineOf(incident!.incident_id)).filter((e) => e.type === 'EventSuppressed' && e.reason === 'duplicate').length === 2, {
    what: 'both replays decided as duplicates',
  });

  expect(await incidentsOf(alias)).toHaveLength(1);
  expect(replies('C0OPS', message.ts).map((r) => r.text)).toEqual(answered);
  expect(full.opsgenie.state.alerts.filter((a) => a.alias === alias)).toHaveLength(paged);
  expect((await timelineOf(incident!.incident_id)).filter((e) => e.type === 'IncidentOpened')).toHaveLength(1);
});

test('a replayed Acknowledge click acknowledges once', async () => {
  const am = fixture('alertmanager/zulip_resolved_single.json');
  am.status = 'firing';
  am.alerts[0].status = 'firing';
  am.alerts[0].fingerprint = 'forgery0replay0click';
  const alias = 'alertmanager:forgery0replay0click';
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(am) });
  expect(res.status).toBe(202);
  const root = await waitFor(() => messages().find((m) => m.channel === 'C0ALERTS' && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(alias)), { what: 'the root message' });
  const button = root.blocks!.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []).map((e) => ({ ...e, block_id: b.block_id })) : [])).find((e) => e.action_id === 'alertbus_ack')!;
  const p = fixture('slack/block_actions_button_docs_example.json');
  p.team = { id: TEAM, domain: 'alertbus-stand-in' };
  p.user = { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: TEAM };
  p.api_app_id = APP.appId;
  p.container = { type: 'message', message_ts: root.ts, channel_id: root.channel, is_ephemeral: false };
  p.channel = { id: root.channel, name: 'alerts' };
  p.message = { type: 'message', user: APP.userId, bot_id: APP.botId, text: root.text, ts: root.ts, blocks: root.blocks };
  p.actions = [{ ...p.actions[0], action_id: button.action_id, block_id: button.block_id, text: button.text, value: button.value, action_ts: `${now()}.000001` }];
  const click = new URLSearchParams({ payload: JSON.stringify(p) }).toString();
  const headers = signed(click);

  for (let i = 0; i < 3; i++) expect((await post('/slack/interactions', click, headers)).status).toBe(200);
  const [incident] = await waitFor(async () => {
    const list = await incidentsOf(alias);
    return list[0]?.status === 'acknowledged' ? list : undefined;
  }, { what: 'the incident acknowledged' });
  await waitFor(async () => (await timelineOf(incident!.incident_id)).filter((e) => e.type === 'EventSuppressed').length >= 2, {
    what: 'the two replayed clicks decided',
  });
  const timeline = await timelineOf(incident!.incident_id);
  expect(timeline.filter((e) => e.type === 'IncidentAcknowledged')).toHaveLength(1);
  await waitFor(() => full.opsgenie.state.alerts.find((a) => a.alias === alias)?.acknowledged === true, { what: 'the pager alert acknowledged' });
  expect(full.opsgenie.state.calls.filter((c) => c.route === 'acknowledge' && c.status < 300)).toHaveLength(1);
  expect(replies('C0ALERTS', root.ts).filter((r) => /^Acknowledged by/.test(r.text))).toHaveLength(1);
});
