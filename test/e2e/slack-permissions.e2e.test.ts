/**
 * The rules file's `permissions:` and `commands:` end to end, over HTTP with every service as its own process:
 * signed Events API and interactivity requests go into ingest; what comes out is what the Slack stand-in shows
 * (thread replies, ephemeral answers), the pager, a command webhook, and the incident's timeline in the history API.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TOPICS } from '@alertbus/schemas';
import { createHmac } from 'node:crypto';
import { dropTestDatabase } from '../support/db';
import { readTopic, testKafka } from '../support/kafka';
import { buttonClick, E2E_APP, E2E_TEAM, slackHeaders, type StandInMessage } from '../support/slack-requests';
import { startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const fixtureJson = <T = Record<string, any>>(p: string): T => JSON.parse(readFileSync(resolve(__dirname, '../../../shared/fixtures', p), 'utf8')) as T; // eslint-disable-line @typescript-eslint/no-explicit-any

const SECRET = 'e2e-permissions-signing-secret-8c1d';
const WEBHOOK_SECRET = 'e2e-command-webhook-secret-51aa';
const TEAM = E2E_TEAM;
const APP = E2E_APP;
const MENTION = `<@${APP.userId}>`;
const ALICE = { id: 'U0ALICE', username: 'alice' }; // viewer (the default)
const BOB = { id: 'U0BOB', username: 'bob' }; // operator (users:)
const DAVE = { id: 'U0DAVE', username: 'dave' }; // operator through the @sre user group

let full: FullStack;
let webhook: Server;
const webhookCalls: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
let unique = 0;

interface TimelineEntry {
  type: string;
  reason: string | null;
  data: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
interface Incident {
  incident_id: string;
  status: string;
  resolved_by: string | null;
}

const messages = () => full.slack.state.messages as StandInMessage[];
const replies = (channel: string, threadTs: string) => messages().filter((m) => m.channel === channel && m.thread_ts === threadTs && m.user === APP.userId);
const ephemeralsFor = (user: string) => full.slack.state.ephemerals.filter((e) => e.user === user);

async function incidentsOf(alias: string): Promise<Incident[]> {
  return (await full.json<{ incidents: Incident[] }>('history', `/api/incidents?alias=${encodeURIComponent(alias)}`)).incidents;
}
async function timelineOf(incidentId: string): Promise<TimelineEntry[]> {
  return (await full.json<{ timeline: TimelineEntry[] }>('history', `/api/incidents/${incidentId}`)).timeline;
}

async function postEvent(body: unknown): Promise<number> {
  const text = JSON.stringify(body);
  return (await fetch(`${full.stack.url('ingest')}/slack/events`, { method: 'POST', headers: slackHeaders(text, SECRET), body: text })).status;
}
async function postInteraction(payload: unknown): Promise<number> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return (await fetch(`${full.stack.url('ingest')}/slack/interactions`, { method: 'POST', headers: slackHeaders(body, SECRET, { contentType: 'application/x-www-form-urlencoded' }), body })).status;
}

/** Someone writes to the app (in a thread when threadTs is given): the stand-in keeps the message, ingest gets its app_mention. */
async function mention(channel: string, user: string, text: string, threadTs?: string): Promise<StandInMessage> {
  const m = full.slack.state.addMessage({ channel, user, text: `${MENTION} ${text}`, ...(threadTs ? { thread_ts: threadTs } : {}) }) as StandInMessage;
  const body = fixtureJson('slack/event_callback_app_mention.json');
  body.team_id = TEAM;
  body.event_id = `EvPERM${++unique}`;
  body.event_time = Math.floor(Number(m.ts));
  Object.assign(body.event, { text: m.text, user, ts: m.ts, event_ts: m.ts, channel, team: TEAM });
  if (threadTs) body.event.thread_ts = threadTs;
  expect(await postEvent(body)).toBe(200);
  return m;
}

/** One firing Alertmanager alert; its incident, root message, and the router knowing the root's thread. */
async function alertIncident(fingerprint: string): Promise<{ alias: string; root: StandInMessage; incidentId: string }> {
  const body = fixtureJson('alertmanager/zulip_resolved_single.json');
  body.status = 'firing';
  body.alerts[0].status = 'firing';
  body.alerts[0].fingerprint = fingerprint;
  const res = await fetch(`${full.stack.url('ingest')}/webhooks/alertmanager`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
  const alias = `alertmanager:${fingerprint}`;
  const root = await waitFor(() => messages().find((m) => m.channel === 'C0ALERTS' && !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(alias)), { what: `the root message of ${alias}` });
  const [incident] = await waitFor(async () => ((await incidentsOf(alias)).length === 1 ? incidentsOf(alias) : undefined), { what: `${alias} in the history API` });
  const kafka = await testKafka(`e2e-permissions-${fingerprint}`);
  await waitFor(async () => (await readTopic(kafka, TOPICS.slackReceived)).some((r) => r.event?.type === 'SlackThreadLinked' && r.key === `slack-thread:C0ALERTS:${root.ts}`), {
    what: 'the thread linked to the incident',
  });
  return { alias, root, incidentId: incident!.incident_id };
}

beforeAll(async () => {
  // A command webhook as a team would write one: it checks the signature and answers with text.
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      webhookCalls.push({ headers: req.headers, body });
      const ts = String(req.headers['x-alertbus-request-timestamp']);
      const expected = `v0=${createHmac('sha256', WEBHOOK_SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
      if (req.headers['x-alertbus-signature'] !== expected) return void res.writeHead(401).end();
      if (req.url === '/broken') return void res.writeHead(500).end('{"error":"boom"}');
      const { groups } = JSON.parse(body) as { groups: { service: string } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: `${groups.service} is <b>green</b>` }));
    });
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  const port = (webhook.address() as AddressInfo).port;

  const dir = mkdtempSync(join(tmpdir(), 'alertbus-permissions-e2e-'));
  const rulesPath = join(dir, 'rules.yaml');
  writeFileSync(
    rulesPath,
    `
defaults:
  slack: { channel: "#alerts" }
  pager: { enabled: true }
permissions:
  default: viewer
  users: { U0BOB: operator }
  groups: { "@sre": operator }
commands:
  default: help
  handlers:
    - name: runbook
      pattern: 'runbook (?P<service>[a-z0-9-]+)'
      reply: 'Runbook of *{{service}}*: https://runbooks.example.com/{{service}}'
    - name: status
      pattern: 'status (?P<service>[a-z0-9-]+)'
      webhook: { url: 'http://127.0.0.1:${port}/status', timeout: 5s }
    - name: deploy
      pattern: 'deploy (?P<service>[a-z0-9-]+) to (?P<env>prod|staging)'
      command: { name: deploy }
      role: operator
    - name: broken
      pattern: 'broken'
      webhook: { url: 'http://127.0.0.1:${port}/broken', timeout: 5s }
`,
  );
  full = await startFullStack(
    { SLACK_SIGNING_SECRET: SECRET, ROUTING_RULES: rulesPath, ONCALL_SCHEDULE: 'ops', COMMAND_WEBHOOK_SECRET: WEBHOOK_SECRET },
    {
      slackChannels: [{ id: 'C0OPS', name: 'ops' }],
      slackUsers: [
        { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
        { id: 'U0BOB', name: 'bob', email: 'bob@example.com' },
        { id: 'U0DAVE', name: 'dave', email: 'dave@example.com' },
      ],
      slackUsergroups: [{ id: 'S0SRE', handle: 'sre', users: ['U0DAVE'] }],
      onCall: { ops: ['bob@example.com'] },
    },
  );
});

afterAll(async () => {
  await full?.stop();
  await new Promise((r) => webhook?.close(r));
  await dropTestDatabase();
});

test('a viewer clicking Resolve, or typing resolve, changes nothing and gets an ephemeral refusal; an operator resolves; all of it is in the timeline', async () => {
  const { alias, root, incidentId } = await alertIncident('e2e0perm0viewer');

  // The viewer clicks Resolve: only they are told, in the channel; the incident stays open.
  expect(await postInteraction(buttonClick(root, 'alertbus_resolve', ALICE))).toBe(200);
  await waitFor(() => ephemeralsFor(ALICE.id).length === 1, { what: 'the refusal shown to alice' });
  expect(ephemeralsFor(ALICE.id)[0]).toMatchObject({ channel: 'C0ALERTS', text: expect.stringContaining('needs the *operator* role and you are *viewer*') });

  // The viewer types resolve in the thread: refused again, shown in the thread, to them alone.
  await mention('C0ALERTS', ALICE.id, 'resolve', root.ts);
  await waitFor(() => ephemeralsFor(ALICE.id).length === 2, { what: 'the second refusal shown to alice' });
  expect(ephemeralsFor(ALICE.id)[1]).toMatchObject({ channel: 'C0ALERTS', thread_ts: root.ts });

  const refusals = await waitFor(async () => {
    const t = (await timelineOf(incidentId)).filter((e) => e.type === 'EventSuppressed' && e.reason === 'not-permitted');
    return t.length === 2 ? t : undefined;
  }, { what: 'both refusals in the timeline' });
  expect(refusals.map((e) => e.data.refused)).toEqual([
    expect.objectContaining({ action: 'resolve', user: ALICE.id, role: 'viewer', needed: 'operator', reason: expect.stringContaining('permissions.default') }),
    expect.objectContaining({ action: 'resolve', user: ALICE.id, role: 'viewer', needed: 'operator' }),
  ]);
  // Nothing changed: still open, the pager alert open, the root message still offers its buttons, no reply in the thread.
  expect((await incidentsOf(alias))[0]).toMatchObject({ status: 'open', resolved_by: null });
  expect(full.opsgenie.state.alerts.find((a) => a.alias === alias)?.status).toBe('open');
  expect(root.text).not.toMatch(/RESOLVED/);
  expect(replies('C0ALERTS', root.ts)).toEqual([]);
  expect(messages().filter((m) => m.user === APP.userId && /Sorry, you may not/.test(m.text))).toEqual([]); // never in the channel

  // An operator types resolve: resolved, everywhere.
  await mention('C0ALERTS', BOB.id, 'resolve', root.ts);
  await waitFor(async () => (await incidentsOf(alias))[0]?.status === 'resolved', { what: 'the incident resolved by bob' });
  expect((await incidentsOf(alias))[0]).toMatchObject({ resolved_by: BOB.id });
  await waitFor(() => full.opsgenie.state.alerts.find((a) => a.alias === alias)?.status === 'closed', { what: 'the pager alert closed' });
  const timeline = await waitFor(async () => {
    const t = await timelineOf(incidentId);
    return t.some((e) => e.type === 'IncidentResolved') ? t : undefined;
  }, { what: 'the resolution in the timeline' });
  expect(timeline.filter((e) => e.type === 'IncidentResolved').map((e) => e.data.by)).toEqual([BOB.id]);
  expect(timeline.filter((e) => e.reason === 'not-permitted')).toHaveLength(2);
  expect(timeline.filter((e) => e.type === 'PostSlackEphemeral')).toHaveLength(2);
});

test('an operator through a Slack user group (ingest reads the membership from Slack) resolves with the button', async () => {
  const { alias, root } = await alertIncident('e2e0perm0group');
  expect(await postInteraction(buttonClick(root, 'alertbus_resolve', DAVE))).toBe(200);
  await waitFor(async () => (await incidentsOf(alias))[0]?.status === 'resolved', { what: 'the incident resolved by dave' });
  expect((await incidentsOf(alias))[0]).toMatchObject({ resolved_by: DAVE.id });
  expect(ephemeralsFor(DAVE.id)).toEqual([]);
});

test('a commands: entry with a reply: template answers in the thread; default: help answers an unknown word with help, not a page', async () => {
  const runbook = await mention('C0OPS', ALICE.id, 'runbook checkout');
  await waitFor(() => replies('C0OPS', runbook.ts).length === 1, { what: 'the runbook reply' });
  expect(replies('C0OPS', runbook.ts)[0]!.text).toBe('Runbook of *checkout*: https://runbooks.example.com/checkout');

  const unknown = await mention('C0OPS', ALICE.id, 'frobnicate');
  await waitFor(() => replies('C0OPS', unknown.ts).length === 1, { what: 'the help answer' });
  const help = replies('C0OPS', unknown.ts)[0]!.text;
  expect(help).toMatch(/^I didn't understand that\. Mention me with one of:/);
  expect(help).toContain('`runbook`');

  // A webhook entry: the signed request reaches the team's service and its text (escaped) answers in the thread.
  const status = await mention('C0OPS', ALICE.id, 'status checkout');
  await waitFor(() => replies('C0OPS', status.ts).length === 1, { what: 'the webhook answer' });
  expect(replies('C0OPS', status.ts)[0]!.text).toBe('checkout is &lt;b&gt;green&lt;/b&gt;');
  const call = webhookCalls.find((c) => c.body.includes(status.ts))!;
  expect(JSON.parse(call.body)).toMatchObject({ command: 'status', text: 'status checkout', groups: { service: 'checkout' }, user: ALICE.id, channel: 'C0OPS', threadTs: status.ts });
  // A failing webhook is said in the thread, once.
  const broken = await mention('C0OPS', ALICE.id, 'broken');
  await waitFor(() => replies('C0OPS', broken.ts).length === 1, { what: 'the webhook failure answer' });
  expect(replies('C0OPS', broken.ts)[0]!.text).toBe('The command `broken` failed: the webhook answered HTTP 500.');
  expect(webhookCalls.filter((c) => c.body.includes(broken.ts))).toHaveLength(1);

  // A command: entry is a request on commands.custom.v1 for other systems, for those whose role allows it.
  const deploy = await mention('C0OPS', BOB.id, 'deploy api to prod');
  const refusedDeploy = await mention('C0OPS', ALICE.id, 'deploy api to staging');
  const kafka = await testKafka('e2e-permissions-custom');
  const requested = await waitFor(async () => {
    const records = (await readTopic(kafka, TOPICS.customCommands)).filter((r) => r.event?.type === 'CustomCommandRequested');
    return records.some((r) => r.key === `slack:${TEAM}:C0OPS:${deploy.ts}`) ? records : undefined;
  }, { what: 'the deploy request on commands.custom.v1' });
  expect(requested.find((r) => r.key === `slack:${TEAM}:C0OPS:${deploy.ts}`)!.event!.data).toMatchObject({ name: 'deploy', groups: { service: 'api', env: 'prod' }, user: BOB.id });
  await waitFor(() => ephemeralsFor(ALICE.id).some((e) => e.thread_ts === refusedDeploy.ts), { what: 'the refusal of alice\'s deploy' });
  expect(requested.filter((r) => r.key === `slack:${TEAM}:C0OPS:${refusedDeploy.ts}`)).toEqual([]);

  // None of these opened an incident or paged anyone.
  for (const m of [runbook, unknown, status, broken, deploy]) expect(await incidentsOf(`slack:${TEAM}:C0OPS:${m.ts}`)).toEqual([]);
  expect(full.opsgenie.state.alerts.filter((a) => a.alias.startsWith('slack:'))).toEqual([]);
});
