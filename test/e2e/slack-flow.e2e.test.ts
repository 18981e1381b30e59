/**
 * Slack in both directions, end to end over HTTP with every service as its own process: signed Events API
 * and interactivity requests (built from the real payloads in ../shared/fixtures/slack) go into ingest;
 * what comes out is what the Slack and Opsgenie stand-ins received, and what the history API shows.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TOPICS } from '@alertbus/schemas';
import { dropTestDatabase } from '../support/db';
import { readTopic, testKafka } from '../support/kafka';
import { buttonClick, E2E_APP, E2E_TEAM, slackHeaders, type StandInMessage } from '../support/slack-requests';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const fixture = (p: string) => readFileSync(resolve(__dirname, '../../../shared/fixtures', p), 'utf8');
const fixtureJson = <T = Record<string, any>>(p: string): T => JSON.parse(fixture(p)) as T; // eslint-disable-line @typescript-eslint/no-explicit-any

const SECRET = 'e2e-slack-signing-secret-3f9a';
/** The stand-in workspace and the app's own identity there (auth.test answers these). */
const TEAM = E2E_TEAM;
const APP = E2E_APP;
const MENTION = `<@${APP.userId}>`;

const USERS = [
  { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
  { id: 'U0BOB', name: 'bob', email: 'bob@example.com' },
  { id: 'U0CAROL', name: 'carol', email: 'carol@example.com' },
  { id: 'U0DAVE', name: 'dave', email: 'dave@example.com' },
];
/** Who is on call, by Opsgenie schedule: `ops` is ONCALL_SCHEDULE, `sre` the urgent rule's. */
const ON_CALL = { ops: ['alice@example.com', 'bob@example.com'], sre: ['carol@example.com'] };

const RULES = `
rules:
  - name: urgent-slack-requests
    match: ['source="slack"', 'text=~".*(down|outage).*"']
    oncall: { schedule: sre }
    pager: { priority: P2, tags: [slack, urgent] }
`;

let full: FullStack;
let unique = 0;

interface Incident {
  incident_id: string;
  alias: string;
  status: string;
  source: string;
  title: string;
  acknowledged_by: string | null;
  resolved_by: string | null;
}
interface TimelineEntry {
  type: string;
  reason: string | null;
  data: Record<string, unknown>;
}

const messages = () => full.slack.state.messages as StandInMessage[];
const replies = (channel: string, threadTs: string) => messages().filter((m) => m.channel === channel && m.thread_ts === threadTs && m.user === APP.userId);
const pagerAlerts = (alias: string) => full.opsgenie.state.alerts.filter((a) => a.alias === alias);
const pagerCalls = (route: string) => full.opsgenie.state.calls.filter((c) => c.route === route && c.status < 300);
const aliasOf = (channel: string, ts: string) => `slack:${TEAM}:${channel}:${ts}`;

async function incidentsOf(alias: string): Promise<Incident[]> {
  const r = await full.json<{ incidents: Incident[] }>('history', `/api/incidents?alias=${encodeURIComponent(alias)}`);
  return r.incidents;
}

/** The sinks act on commands; the history row follows from incidents.v1 and may lag them, so it is awaited. */
async function resolvedIn(alias: string): Promise<Incident[]> {
  return waitFor(async () => {
    const list = await incidentsOf(alias);
    return list[0]?.status === 'resolved' ? list : undefined;
  }, { what: `${alias} resolved in the history API` });
}
async function timelineOf(incidentId: string): Promise<TimelineEntry[]> {
  return (await full.json<{ timeline: TimelineEntry[] }>('history', `/api/incidents/${incidentId}`)).timeline;
}

async function postEvent(body: unknown, opts: Parameters<typeof slackHeaders>[2] & { secret?: string } = {}): Promise<Response> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return fetch(`${full.stack.url('ingest')}/slack/events`, { method: 'POST', headers: slackHeaders(text, opts.secret ?? SECRET, opts), body: text });
}

async function postInteraction(payload: unknown): Promise<Response> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return fetch(`${full.stack.url('ingest')}/slack/interactions`, {
    method: 'POST',
    headers: slackHeaders(body, SECRET, { contentType: 'application/x-www-form-urlencoded' }),
    body,
  });
}

/** A message someone wrote in the stand-in workspace (so the app can answer in its thread). */
function humanMessage(channel: string, user: string, text: string, threadTs?: string): StandInMessage {
  return full.slack.state.addMessage({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) }) as StandInMessage;
}

/** The app_mention event_callback of the fixture, about the given message. */
function appMention(m: StandInMessage, eventId = `Ev${++unique}MENTION`) {
  const body = fixtureJson('slack/event_callback_app_mention.json');
  body.team_id = TEAM;
  body.event_id = eventId;
  body.event_time = Math.floor(Number(m.ts));
  Object.assign(body.event, { text: m.text, user: m.user, ts: m.ts, event_ts: m.ts, channel: m.channel, team: TEAM });
  if (m.thread_ts) body.event.thread_ts = m.thread_ts;
  return body;
}

/** A message_changed of the fixture (inner event), in an event_callback envelope, editing the given message. */
function messageChanged(m: StandInMessage, newText: string) {
  const envelope = fixtureJson('slack/event_callback_app_mention.json');
  const inner = fixtureJson('slack/event_message_changed_in_thread.json');
  const editTs = `${Math.floor(Number(m.ts)) + 30}.000100`;
  inner.channel = m.channel;
  inner.channel_type = 'channel';
  inner.ts = inner.event_ts = editTs;
  for (const msg of [inner.message, inner.previous_message]) {
    Object.assign(msg, { user: m.user, ts: m.ts, team: TEAM });
    delete msg.thread_ts;
    delete msg.parent_user_id;
  }
  inner.message.text = newText;
  inner.message.edited = { user: m.user, ts: editTs };
  inner.previous_message.text = m.text;
  return { ...envelope, team_id: TEAM, event_id: `Ev${++unique}EDIT`, event_time: Math.floor(Number(editTs)), event: inner };
}

/** A DM to the app, from the message.im fixture (made a top-level message). */
function directMessage(m: StandInMessage) {
  const body = fixtureJson('slack/event_callback_message_im_thread_reply.json');
  body.team_id = TEAM;
  body.event_id = `Ev${++unique}DM`;
  body.authorizations[0] = { ...body.authorizations[0], team_id: TEAM, user_id: APP.userId, enterprise_id: null };
  delete body.enterprise_id;
  delete body.event.thread_ts;
  delete body.event.parent_user_id;
  Object.assign(body.event, { text: m.text, user: m.user, ts: m.ts, event_ts: m.ts, channel: m.channel, team: TEAM, user_team: TEAM, source_team: TEAM });
  return body;
}

/** Fires one Alertmanager alert (the fixture, made firing, with its own fingerprint) and returns its root message in #alerts. */
async function alertWithRoot(fingerprint: string): Promise<{ alias: string; root: StandInMessage }> {
  const body = fixtureJson('alertmanager/zulip_resolved_single.json');
  body.status = 'firing';
  body.alerts[0].status = 'firing';
  body.alerts[0].fingerprint = fingerprint;
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
  const alias = `alertmanager:${fingerprint}`;
  const root = await waitFor(() => messages().find((m) => m.channel === 'C0ALERTS' && !m.thread_ts && m.blocks && JSON.stringify(m.blocks).includes(alias)), {
    what: `the root message of ${alias}`,
  });
  await waitFor(() => pagerAlerts(alias).length === 1, { what: `the pager alert of ${alias}` });
  return { alias, root };
}

/** Waits until the router has decided `n` events of `type` (with `reason`) for the incident: history shows every decision. */
async function decided(incidentId: string, type: string, reason: string | null, n: number): Promise<void> {
  await waitFor(async () => (await timelineOf(incidentId)).filter((e) => e.type === type && (reason === null || e.reason === reason)).length >= n, {
    what: `${n} × ${type}${reason ? ` (${reason})` : ''} for ${incidentId}`,
  });
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alertbus-slack-e2e-'));
  const rulesPath = join(dir, 'rules.yaml');
  writeFileSync(rulesPath, RULES);
  full = await startFullStack(
    {
      SLACK_SIGNING_SECRET: SECRET,
      ROUTING_RULES: rulesPath,
      ONCALL_SCHEDULE: 'ops',
      ONCALL_USERGROUP_ID: 'S0ONCALL',
      ONCALL_USERGROUP_INTERVAL_MINUTES: '60',
    },
    {
      slackChannels: [
        { id: 'C0OPS', name: 'ops' },
        { id: 'D0DAVE', name: 'dm-dave' },
      ],
      slackUsers: USERS,
      slackUsergroups: [{ id: 'S0ONCALL', handle: 'oncall', users: ['U0DAVE'] }],
      onCall: ON_CALL,
    },
  );
});

afterAll(async () => {
  await full?.stop();
  await dropTestDatabase();
});

test('a signed app_mention → one thread reply naming the on-call, one pager alert with the message alias; redeliveries and an edit change nothing else', async () => {
  const m = humanMessage('C0OPS', 'U0ALICE', `${MENTION} the checkout page is down for everyone`);
  const alias = aliasOf('C0OPS', m.ts);
  const mention = appMention(m);
  expect((await postEvent(mention)).status).toBe(200);

  // First the acknowledgement, then the on-call of the rule's schedule (sre → carol), in the message's thread.
  await waitFor(() => replies('C0OPS', m.ts).some((r) => r.text.includes('<@U0CAROL>')), { what: 'the on-call reply in the thread' });
  expect(replies('C0OPS', m.ts).map((r) => r.text)).toEqual(['Looking for the on-call of *sre*…', 'On call for *sre*: <@U0CAROL>']);
  await waitFor(() => pagerAlerts(alias).length === 1, { what: 'the pager alert with the message alias' });
  expect(pagerAlerts(alias)[0]).toMatchObject({ message: 'the checkout page is down for everyone', priority: 'P2', tags: expect.arrayContaining(['slack', 'urgent']) });
  expect(pagerAlerts(alias)[0]!.description).toContain(`https://alertbus-stand-in.slack.com/archives/C0OPS/p${m.ts.replace('.', '')}`);
  expect(pagerAlerts(alias)[0]!.description).toContain('Requested in Slack by alice (U0ALICE)'); // the requester's name, resolved

  const [incident] = await waitFor(async () => {
    const list = await incidentsOf(alias);
    return list.length === 1 ? list : undefined;
  }, { what: 'the Slack incident in the history API' });
  expect(incident).toMatchObject({ source: 'slack', status: 'open', title: 'the checkout page is down for everyone' });

  // Slack redelivers three times, then sends the same message under another event_id: all duplicates.
  for (const retryNum of [1, 2, 3]) expect((await postEvent(mention, { retryNum })).status).toBe(200);
  expect((await postEvent(appMention(m, 'EvSAMEMESSAGEOTHERID'))).status).toBe(200);
  await decided(incident!.incident_id, 'EventSuppressed', 'duplicate', 4);

  // The requester edits the message: the incident is updated and the pager alert gets a note, nothing more.
  expect((await postEvent(messageChanged(m, `${MENTION} the checkout page is down for everyone in EU`))).status).toBe(200);
  await waitFor(() => (pagerAlerts(alias)[0]?.notes ?? []).some((n) => n.note.includes('in EU')), { what: 'a note on the pager alert' });
  await decided(incident!.incident_id, 'IncidentUpdated', 'updated', 1);

  expect(replies('C0OPS', m.ts)).toHaveLength(2);
  expect(pagerAlerts(alias)).toHaveLength(1);
  expect(pagerCalls('create').filter((c) => JSON.stringify(c.body).includes(alias))).toHaveLength(1);
  expect((await incidentsOf(alias))[0]).toMatchObject({ title: 'the checkout page is down for everyone in EU', status: 'open' });
});

test('the app\'s own message, a bad signature and a 6-minute-old timestamp: nothing happens (401 for the bad ones)', async () => {
  const own = fixtureJson('slack/event_callback_own_bot_message.json');
  const ownMsg = humanMessage('C0OPS', APP.userId, `${MENTION} I am the app talking to myself`);
  own.team_id = TEAM;
  own.api_app_id = APP.appId;
  own.authorizations[0] = { ...own.authorizations[0], team_id: TEAM, user_id: APP.userId };
  Object.assign(own.event, { user: APP.userId, bot_id: APP.botId, app_id: APP.appId, team: TEAM, channel: 'C0OPS', ts: ownMsg.ts, event_ts: ownMsg.ts, text: ownMsg.text });
  const ownRes = await postEvent(own);
  expect(ownRes.status).toBe(200);
  expect(await ownRes.json()).toMatchObject({ accepted: 0, ignored: 'own-message' });

  const m = humanMessage('C0OPS', 'U0BOB', `${MENTION} please help with the outage`);
  const body = appMention(m);
  const badSignature = await postEvent(body, { secret: 'not-the-signing-secret' });
  const stale = await postEvent(body, { age: 6 * 60 });
  expect([badSignature.status, stale.status]).toEqual([401, 401]);

  // Nothing reached Kafka for any of them, so nobody was answered, paged or recorded.
  const kafka = await testKafka('e2e-slack-reader');
  const written = (await readTopic(kafka, TOPICS.slackReceived)).map((r) => r.key);
  expect(written).not.toContain(aliasOf('C0OPS', ownMsg.ts));
  expect(written).not.toContain(aliasOf('C0OPS', m.ts));
  expect(replies('C0OPS', m.ts)).toEqual([]);
  expect(replies('C0OPS', ownMsg.ts)).toEqual([]);
  expect(pagerAlerts(aliasOf('C0OPS', m.ts))).toEqual([]);
  expect(await incidentsOf(aliasOf('C0OPS', m.ts))).toEqual([]);
});

test('a DM to the app gets the same treatment as a mention: the on-call reply (ONCALL_SCHEDULE), no page', async () => {
  const m = humanMessage('D0DAVE', 'U0DAVE', 'is anyone around? my deploy is stuck');
  const alias = aliasOf('D0DAVE', m.ts);
  expect((await postEvent(directMessage(m))).status).toBe(200);
  await waitFor(() => replies('D0DAVE', m.ts).length === 2, { what: 'the on-call reply in the DM thread' });
  expect(replies('D0DAVE', m.ts).map((r) => r.text)).toEqual(['Looking for the on-call of *ops*…', 'On call for *ops*: <@U0ALICE> <@U0BOB>']);
  const [incident] = await waitFor(async () => ((await incidentsOf(alias)).length === 1 ? incidentsOf(alias) : undefined), { what: 'the DM incident' });
  expect(incident).toMatchObject({ source: 'slack', status: 'open' });
  expect(pagerAlerts(alias)).toEqual([]);
});

test('help, oncall and cache clear do what they say', async () => {
  const ask = async (text: string) => {
    const m = humanMessage('C0OPS', 'U0DAVE', `${MENTION} ${text}`);
    expect((await postEvent(appMention(m))).status).toBe(200);
    return m;
  };
  const help = await ask('help');
  const helpReply = await waitFor(() => replies('C0OPS', help.ts)[0], { what: 'the help reply' });
  for (const usage of ['`help`', '`oncall [schedule]`', '`cache clear [schedule]`', '`ack [id|alias]`', '`resolve [id|alias]`']) expect(helpReply.text).toContain(usage);
  expect(await incidentsOf(aliasOf('C0OPS', help.ts))).toEqual([]);

  const lookups = () => pagerCalls('onCalls').length;
  const oncall = await ask('oncall');
  await waitFor(() => replies('C0OPS', oncall.ts).some((r) => r.text === 'On call for *ops*: <@U0ALICE> <@U0BOB>'), { what: 'the oncall reply' });
  const named = await ask('oncall sre');
  await waitFor(() => replies('C0OPS', named.ts).some((r) => r.text === 'On call for *sre*: <@U0CAROL>'), { what: 'the oncall sre reply' });

  // Cached now: asking again does not ask Opsgenie…
  const before = lookups();
  const cached = await ask('oncall');
  await waitFor(() => replies('C0OPS', cached.ts).length === 2, { what: 'the cached oncall reply' });
  expect(lookups()).toBe(before);
  // …until the cache is cleared.
  const clear = await ask('cache clear');
  await waitFor(() => replies('C0OPS', clear.ts).some((r) => r.text.includes('on-call cache is cleared') && r.text.includes('<@U0DAVE>')), { what: 'the cache clear confirmation' });
  const fresh = await ask('oncall');
  await waitFor(() => replies('C0OPS', fresh.ts).length === 2, { what: 'the oncall reply after the clear' });
  expect(lookups()).toBe(before + 1);
});

test('ack and resolve typed in an incident\'s thread acknowledge and resolve it, and update its root message', async () => {
  const { alias, root } = await alertWithRoot('e2e0text0command');
  const [incident] = await waitFor(async () => ((await incidentsOf(alias)).length === 1 ? incidentsOf(alias) : undefined), { what: 'the alert incident' });
  // The router learns the thread from the slack-sink's report of the root post (as in Slack, nobody types in a
  // thread before its root is there): wait until it linked the thread.
  expect(incident).toMatchObject({ status: 'open' });
  const kafka = await testKafka('e2e-slack-links');
  await waitFor(
    async () => (await readTopic(kafka, TOPICS.slackReceived)).some((r) => r.event?.type === 'SlackThreadLinked' && r.key === `slack-thread:C0ALERTS:${root.ts}`),
    { what: 'the thread linked to the incident' },
  );

  const ack = humanMessage('C0ALERTS', 'U0CAROL', `${MENTION} ack`, root.ts);
  expect((await postEvent(appMention(ack))).status).toBe(200);
  await waitFor(() => full.opsgenie.state.alerts.find((a) => a.alias === alias)?.acknowledged === true, { what: 'the pager alert acknowledged' });
  await waitFor(() => /ACKNOWLEDGED/.test(root.text) && JSON.stringify(root.blocks).includes('<@U0CAROL>'), { what: 'the root message showing who acknowledged' });
  expect(replies('C0ALERTS', root.ts).map((r) => r.text)).toContain('Acknowledged by <@U0CAROL>.');
  await waitFor(async () => (await incidentsOf(alias))[0]?.acknowledged_by === 'U0CAROL', { what: 'acknowledged_by in the history API' });

  const resolve = humanMessage('C0ALERTS', 'U0CAROL', `${MENTION} resolve`, root.ts);
  expect((await postEvent(appMention(resolve))).status).toBe(200);
  await waitFor(() => full.opsgenie.state.alerts.find((a) => a.alias === alias)?.status === 'closed', { what: 'the pager alert closed' });
  await waitFor(() => /RESOLVED/.test(root.text) && !(root.blocks ?? []).some((b) => b.type === 'actions'), { what: 'the root resolved, without buttons' });
  await waitFor(() => replies('C0ALERTS', root.ts).some((r) => r.text.startsWith('Resolved by <@U0CAROL>')), { what: 'the resolved reply' });
  const [resolved] = await resolvedIn(alias);
  expect(resolved).toMatchObject({ status: 'resolved', resolved_by: 'U0CAROL' });
});

test('the Acknowledge and Resolve buttons acknowledge and resolve the incident and update the root message', async () => {
  const { alias, root } = await alertWithRoot('e2e0button0click0');
  expect(root.blocks!.some((b) => b.type === 'actions')).toBe(true);

  const ackRes = await postInteraction(buttonClick(root, 'alertbus_ack', { id: 'U0BOB', username: 'bob' }));
  expect(ackRes.status).toBe(200);
  await waitFor(() => full.opsgenie.state.alerts.find((a) => a.alias === alias)?.acknowledged === true, { what: 'the pager alert acknowledged' });
  await waitFor(() => /ACKNOWLEDGED/.test(root.text) && JSON.stringify(root.blocks).includes('<@U0BOB>'), { what: 'the root message showing who acknowledged' });
  expect(full.opsgenie.state.alerts.find((a) => a.alias === alias)!.acknowledgedBy).toBe('bob');

  // Slack sends back the blocks it shows now: the updated root still carries Resolve.
  const resolveRes = await postInteraction(buttonClick(root, 'alertbus_resolve', { id: 'U0BOB', username: 'bob' }));
  expect(resolveRes.status).toBe(200);
  await waitFor(() => full.opsgenie.state.alerts.find((a) => a.alias === alias)?.status === 'closed', { what: 'the pager alert closed' });
  await waitFor(() => /RESOLVED/.test(root.text) && !(root.blocks ?? []).some((b) => b.type === 'actions'), { what: 'the root resolved, without buttons' });
  await waitFor(() => replies('C0ALERTS', root.ts).some((r) => r.text.startsWith('Resolved by <@U0BOB>')), { what: 'the resolved reply in the thread' });
  const [incident] = await resolvedIn(alias);
  expect(incident).toMatchObject({ status: 'resolved', acknowledged_by: 'U0BOB', acknowledged_by_name: 'bob', resolved_by: 'U0BOB', resolved_by_name: 'bob' });
});

test('the on-call user group holds exactly the on-call of ONCALL_SCHEDULE', async () => {
  await waitFor(() => full.slack.state.usergroups.find((g) => g.id === 'S0ONCALL')!.users.slice().sort().join() === 'U0ALICE,U0BOB', {
    what: 'the user group set to the ops on-call',
  });
});
