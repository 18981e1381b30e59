/**
 * User-group enrichment for the rules file's `permissions:`, against the Slack stand-in and the real broker:
 * what ingest writes to slack.received.v1 carries the groups of who wrote or clicked, read from Slack once per
 * TTL, and Slack failing never loses an input.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS, type Envelope } from '@alertbus/schemas';
import { startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { readTopic, testBrokers } from '../../../test/support/kafka';
import { fixtureText } from '../../../test/support/fixtures';
import { startIngest, type RunningIngest } from './index';
import { slackSignature } from './slack/signature';
import { request } from './test-support/http';
import { ingestRig } from './test-support/rig';
import { settled } from './test-support/retry';

const SECRET = 'test-signing-secret-groups-77';
const TOKEN = 'xoxb-ingest-groups-test';
const rig = ingestRig('ingest-user-groups-test');
const running: RunningIngest[] = [];
const standIns: SlackStandIn[] = [];

const GROUPS = [
  { id: 'S0SRE', handle: 'sre', users: ['U0BOB', 'U0ALICE'] },
  { id: 'S0DBA', handle: 'DBA', users: ['U0BOB'] },
  { id: 'S0OTHER', handle: 'other', users: ['U0CAROL'] },
];

function rulesFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'alertbus-groups-')), 'rules.yaml');
  writeFileSync(file, text);
  return file;
}
const WITH_GROUPS = rulesFile('permissions:\n  default: viewer\n  groups: { "@sre": operator }\n');
const WITHOUT_GROUPS = rulesFile('permissions:\n  default: operator\n');

/** A Slack stand-in with GROUPS (made to fail first by `prepare`, if given) and an ingest reading it. */
async function start(rulesPath: string, ttlMs = 60_000, prepare?: (slack: SlackStandIn) => void): Promise<{ url: string; slack: SlackStandIn }> {
  const slack = await startSlackStandIn({ tokens: [TOKEN], usergroups: GROUPS.map((g) => ({ ...g, users: [...g.users] })) });
  standIns.push(slack);
  prepare?.(slack);
  const ingest = await startIngest(
    {
      port: 0,
      host: '127.0.0.1',
      bodyLimit: 1024 * 1024,
      kafkaBrokers: testBrokers(),
      kafkaTimeoutMs: 10_000,
      rulesPath,
      slack: { signingSecret: SECRET, botToken: TOKEN, apiUrl: slack.url, ackTimeoutMs: 2_500, userGroupsTtlMs: ttlMs },
    },
    { log: rig.log },
  );
  running.push(ingest);
  return { url: ingest.url, slack };
}

function signed(body: string, contentType = 'application/json') {
  const ts = String(Math.floor(Date.now() / 1000));
  return { 'content-type': contentType, 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SECRET, ts, Buffer.from(body, 'utf8')) };
}

let unique = 0;
/** A signed app_mention by `user`; answers with the id of what ingest wrote. */
async function mention(url: string, user: string): Promise<string> {
  const body = JSON.parse(fixtureText('slack/event_callback_app_mention.json'));
  const n = ++unique;
  body.event_id = `EvGROUPS${n}`;
  Object.assign(body.event, { user, ts: `1700000${String(n).padStart(3, '0')}.000100`, event_ts: `1700000${String(n).padStart(3, '0')}.000100` });
  const text = JSON.stringify(body);
  const res = await request(url, 'POST', '/slack/events', text, signed(text));
  expect(res.statusCode).toBe(200);
  return (res.json() as { ids: string[] }).ids[0]!;
}

async function written(id: string): Promise<Envelope<'SlackMessageReceived'>> {
  return settled(async () => {
    const hit = (await readTopic(rig.kafka, TOPICS.slackReceived)).find((r) => r.event?.id === id);
    if (!hit) throw new Error(`${id} is not on ${TOPICS.slackReceived} yet`);
    return hit.event as Envelope<'SlackMessageReceived'>;
  }, 20);
}

const listCalls = (slack: SlackStandIn) => slack.state.calls.filter((c) => c.method === 'usergroups.list');

afterAll(async () => {
  for (const r of running) await r.close();
  for (const s of standIns) await s.close();
});

test('a mention and a click carry the groups of who wrote or clicked (handles, lower case); one usergroups.list per TTL', async () => {
  const { url, slack } = await start(WITH_GROUPS);
  const bob = await written(await mention(url, 'U0BOB'));
  expect(bob.data.userGroups).toEqual(['sre', 'dba']);
  const carol = await written(await mention(url, 'U0CAROL'));
  expect(carol.data.userGroups).toEqual(['other']);
  const dave = await written(await mention(url, 'U0DAVE'));
  expect(dave.data.userGroups).toEqual([]);

  const payload = JSON.parse(fixtureText('slack/block_actions_button_docs_example.json'));
  const actionTs = `1700001${++unique}.000001`;
  payload.user = { ...payload.user, id: 'U0ALICE' };
  payload.actions[0] = { ...payload.actions[0], action_id: 'alertbus_resolve', action_ts: actionTs, value: JSON.stringify({ alias: 'alertmanager:g1', incidentId: 'inc-g1' }) };
  const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  expect((await request(url, 'POST', '/slack/interactions', form, signed(form, 'application/x-www-form-urlencoded'))).statusCode).toBe(200);
  const click = await settled(async () => {
    const hit = (await readTopic(rig.kafka, TOPICS.slackReceived)).find((r) => (r.event?.data as { actionTs?: string } | undefined)?.actionTs === actionTs);
    if (!hit) throw new Error('the click is not on Kafka yet');
    return hit.event as Envelope<'SlackActionReceived'>;
  }, 20);
  expect(click.data.userGroups).toEqual(['sre']);
  // Read at start and kept: four inputs, one read.
  expect(listCalls(slack)).toHaveLength(1);
});

test('after the TTL the membership is read again; while Slack fails, inputs go on with the last one known', async () => {
  const { url, slack } = await start(WITH_GROUPS, 1_000);
  expect((await written(await mention(url, 'U0ALICE'))).data.userGroups).toEqual(['sre']);
  slack.state.usergroups.find((g) => g.id === 'S0SRE')!.users = ['U0BOB'];
  slack.state.usergroups.find((g) => g.id === 'S0DBA')!.users = ['U0BOB', 'U0ALICE'];
  await new Promise((r) => setTimeout(r, 1_200));
  expect((await written(await mention(url, 'U0ALICE'))).data.userGroups).toEqual(['dba']);

  slack.state.failFor('usergroups.list', { ok: false, error: 'internal_error' }, 60_000);
  await new Promise((r) => setTimeout(r, 1_200));
  const calls = listCalls(slack).length;
  const stale = await written(await mention(url, 'U0ALICE'));
  expect(listCalls(slack).length).toBeGreaterThan(calls); // it did ask, and Slack failed
  expect(stale.data.userGroups).toEqual(['dba']);
});

test('with Slack failing from the start, the input is written without groups (never lost)', async () => {
  const { url } = await start(WITH_GROUPS, 60_000, (slack) => slack.state.failFor('usergroups.list', { ok: false, error: 'missing_scope' }, 600_000));
  const event = await written(await mention(url, 'U0BOB'));
  expect(event.data.user).toBe('U0BOB');
  expect(event.data.userGroups).toBeUndefined();
});

test('rules that give no role to a group: Slack is not asked, inputs carry no groups', async () => {
  const { url, slack } = await start(WITHOUT_GROUPS);
  const event = await written(await mention(url, 'U0BOB'));
  expect(event.data.userGroups).toBeUndefined();
  expect(slack.state.calls.map((c) => c.method)).not.toContain('usergroups.list');
});
