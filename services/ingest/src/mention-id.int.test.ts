/**
 * `@alertbus ack|resolve <incident id>` by mention or DM, on the real broker: ingest asks the history API (a local
 * stand-in of it) for the incident's alias, as for `/alertbus ack <id>`, and keys the message by it with the target; an
 * id it cannot find, or cannot ask about, is recorded under the message's own key with why.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deriveId, TOPICS, type Envelope } from '@alertbus/schemas';
import { fixtureText } from '../../../test/support/fixtures';
import { readTopic } from '../../../test/support/kafka';
import { fixedIdentity } from './slack/identity';
import { historyIncidentLookup } from './slack/incident-lookup';
import { slackSignature } from './slack/signature';
import { request, type Target } from './test-support/http';
import { settled } from './test-support/retry';
import { ingestRig } from './test-support/rig';

const SECRET = 'mention-id-signing-secret-7e21';
const TEAM = 'T123';
const CHANNEL = 'C123';
const KNOWN = '5d0c1e2f-3a4b-8c5d-9e6f-7a8b9c0d1e2f';
const ALIAS = 'alertmanager:found-by-id';
/** An incident the history API answers for only after 1.3 s (a busy machine): later than the old fixed 800 ms bound. */
const SLOW = '7f0c1e2f-3a4b-8c5d-9e6f-7a8b9c0d1e2f';
const SLOW_MS = 1_300;
const rig = ingestRig('ingest-mention-id');

/** The history API as far as the look-up uses it: GET /api/incidents/:id, with the viewer token. */
let history: Server;
let historyUrl = '';
const asked: Array<{ path: string; auth: string | undefined }> = [];

beforeAll(async () => {
  history = createServer((req, res) => {
    asked.push({ path: req.url ?? '', auth: req.headers.authorization });
    if (req.headers.authorization !== 'Bearer viewer-token') return void res.writeHead(401).end();
    if (req.url === `/api/incidents/${KNOWN}`) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: KNOWN, alias: ALIAS }));
    if (req.url === `/api/incidents/${SLOW}`) return void setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: SLOW, alias: ALIAS })), SLOW_MS);
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
  });
  await new Promise<void>((resolve) => history.listen(0, '127.0.0.1', resolve));
  historyUrl = `http://127.0.0.1:${(history.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => history.close(resolve));
});

let unique = 0;
/** The fixture's app_mention with this text and a ts of its own (a new event_id, as Slack gives each message). */
function mention(text: string, kind: 'mention' | 'dm' = 'mention'): { body: string; ts: string; channel: string } {
  const f = JSON.parse(fixtureText('slack/event_callback_app_mention.json')) as { event: Record<string, unknown> };
  const { blocks: _blocks, ...event } = f.event;
  const ts = `${Math.floor(Date.now() / 1000)}.${String(++unique).padStart(6, '0')}`;
  const inner =
    kind === 'dm'
      ? { ...event, type: 'message', channel: 'D0DM', channel_type: 'im', text, ts, event_ts: ts }
      : { ...event, text: `<@U123> ${text}`, ts, event_ts: ts };
  return { body: JSON.stringify({ ...f, event_id: `Ev${ts.replace('.', '')}`, event: inner }), ts, channel: kind === 'dm' ? 'D0DM' : CHANNEL };
}

async function post(app: Target, body: string): Promise<{ ids: string[]; aliases: string[] }> {
  const ts = String(Math.floor(Date.now() / 1000));
  const res = await request(app, 'POST', '/slack/events', body, {
    'content-type': 'application/json',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': slackSignature(SECRET, ts, Buffer.from(body, 'utf8')),
  });
  expect(res.statusCode).toBe(200);
  return res.json() as { ids: string[]; aliases: string[] };
}

async function recordOf(id: string) {
  const records = await settled(() => readTopic(rig.kafka, TOPICS.slackReceived));
  const mine = records.filter((r) => r.event?.id === id);
  expect(mine).toHaveLength(1);
  return { key: mine[0]!.key, event: mine[0]!.event as Envelope<'SlackMessageReceived'> };
}

const slack = (more: object = {}) => ({ slack: { signingSecret: SECRET, identity: fixedIdentity({ userId: 'U074G5E1ANR', botId: 'B074K2M1NF4' }), ...more } });

test('ack <incident id> by mention: keyed by the alias the history API gives, with the target; a DM too', async () => {
  const app = await rig.app(slack({ incidents: historyIncidentLookup({ historyUrl, token: 'viewer-token' }) }));
  const m = mention(`ack ${KNOWN}`);
  const answered = await post(app, m.body);
  expect(answered.aliases).toEqual([ALIAS]);
  expect(answered.ids).toEqual([deriveId('slack-mention-command', TEAM, CHANNEL, m.ts)]);
  const { key, event } = await recordOf(answered.ids[0]!);
  expect(key).toBe(ALIAS);
  expect(event.data).toMatchObject({ kind: 'mention', target: { incidentId: KNOWN, alias: ALIAS } });
  expect(event.data.targetProblem).toBeUndefined();
  expect(asked).toContainEqual({ path: `/api/incidents/${KNOWN}`, auth: 'Bearer viewer-token' });

  const dm = mention(`resolve ${KNOWN}`, 'dm');
  const byDm = await post(app, dm.body);
  expect(byDm.aliases).toEqual([ALIAS]);
  expect((await recordOf(byDm.ids[0]!)).event.data).toMatchObject({ kind: 'dm', target: { incidentId: KNOWN, alias: ALIAS } });
});

test('a history API slower than 800 ms but within INGEST_SLACK_TIMEOUT_MS (2.5 s): the alias is found, not given up on', async () => {
  const app = await rig.app(slack({ incidents: historyIncidentLookup({ historyUrl, token: 'viewer-token' }) }));
  const m = mention(`resolve ${SLOW}`);
  const answered = await post(app, m.body);
  expect(answered.aliases).toEqual([ALIAS]);
  const { key, event } = await recordOf(answered.ids[0]!);
  expect(key).toBe(ALIAS);
  expect(event.data).toMatchObject({ target: { incidentId: SLOW, alias: ALIAS } });
  expect(event.data.targetProblem).toBeUndefined();
});

test('an id the history API does not know, or that cannot be looked up: keyed by the message itself, with why', async () => {
  const app = await rig.app(slack({ incidents: historyIncidentLookup({ historyUrl, token: 'viewer-token' }) }));
  const other = '6e0c1e2f-3a4b-8c5d-9e6f-7a8b9c0d1e2f';
  const m = mention(`resolve ${other}`);
  const answered = await post(app, m.body);
  expect(answered.aliases).toEqual([`slack:${TEAM}:${CHANNEL}:${m.ts}`]);
  const { key, event } = await recordOf(answered.ids[0]!);
  expect(key).toBe(`slack:${TEAM}:${CHANNEL}:${m.ts}`);
  expect(event.data).toMatchObject({ targetProblem: 'no incident has that id' });
  expect(event.data.target).toBeUndefined();

  // The history API not there: answered in time all the same, recorded with why.
  const down = await rig.app(slack({ incidents: historyIncidentLookup({ historyUrl: 'http://127.0.0.1:9', timeoutMs: 500 }) }));
  const d = mention(`ack ${KNOWN}`);
  const started = Date.now();
  const downAnswer = await post(down, d.body);
  expect(Date.now() - started).toBeLessThan(3000);
  expect((await recordOf(downAnswer.ids[0]!)).event.data).toMatchObject({ targetProblem: expect.stringContaining('the history API could not be asked') });

  // No history API configured (HISTORY_URL unset): said so, nothing looked up.
  const none = await rig.app(slack());
  const n = mention(`ack ${KNOWN}`);
  const noneAnswer = await post(none, n.body);
  expect(noneAnswer.aliases).toEqual([`slack:${TEAM}:${CHANNEL}:${n.ts}`]);
  expect((await recordOf(noneAnswer.ids[0]!)).event.data).toMatchObject({ targetProblem: expect.stringContaining('HISTORY_URL') });
});
