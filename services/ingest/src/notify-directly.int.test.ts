/**
 * POST /notify-directly on a real ingest and Kafka, with tokens: only INGEST_TOKEN and the senders of
 * INGEST_NOTIFY_DIRECTLY may post (403 naming the permission for the others, nothing written), and what is written
 * cannot notify a channel or a user group, nor carry another name or icon. What the message would notify is read
 * by the Slack stand-in's parser, as Slack reads it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@alertbus/common';
import { TOPICS } from '@alertbus/schemas';
import { messageNotifications } from '@alertbus/stand-ins';
import { readTopic, testBrokers, testKafka, type ReadRecord } from '../../../test/support/kafka';
import { BROADCAST_SECTION, BROADCAST_SECTION_AS_TEXT } from '../../../test/support/rich-text-broadcasts';
import { startIngest, type RunningIngest } from './index';
import { settled } from './test-support/retry';

const ADMIN = 'admin-token-0123456789';
const DEPLOYER = 'deployer-token-0123456789';
const GRAFANA = 'grafana-token-0123456789';

let ingest: RunningIngest;

beforeAll(async () => {
  const rules = join(mkdtempSync(join(tmpdir(), 'alertbus-ingest-direct-')), 'rules.yaml');
  writeFileSync(rules, 'tags:\n  deploys: { channel: "#deploys" }\n');
  ingest = await startIngest(
    {
      port: 0,
      host: '127.0.0.1',
      token: ADMIN,
      tokens: [
        { name: 'deployer', token: DEPLOYER },
        { name: 'grafana', token: GRAFANA },
      ],
      directSenders: ['deployer'],
      bodyLimit: 1024 * 1024,
      kafkaBrokers: testBrokers(),
      kafkaTimeoutMs: 10_000,
      rulesPath: rules,
    },
    { log: createLogger('ingest-direct-test', 'silent') },
  );
});

afterAll(async () => {
  await ingest?.close();
});

const post = (path: string, token: string, body: unknown) =>
  fetch(`${ingest.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

async function notifications(): Promise<ReadRecord[]> {
  const kafka = await settled(() => testKafka('ingest-direct-test'));
  return settled(() => readTopic(kafka, TOPICS.notifications));
}

const withText = (records: ReadRecord[], marker: string) => records.filter((r) => JSON.stringify(r.event?.data ?? {}).includes(marker));

test('a sender without the notify-directly permission gets 403 naming it, before its body is read, and nothing is written', async () => {
  const refused = await post('/notify-directly', GRAFANA, { channel: '#ops', text: 'refused 4e1b' });
  expect(refused.status).toBe(403);
  expect(await refused.json()).toEqual({
    error: 'forbidden',
    message: 'sender "grafana" lacks the notify-directly permission: its token may POST /notify to a tag; to post messages it builds, add "grafana" to INGEST_NOTIFY_DIRECTLY',
  });
  // Not a 400 about the body: the permission is checked first.
  expect((await post('/notify-directly', GRAFANA, '{"not": "a message"')).status).toBe(403);
  // The same token still sends to a tag.
  expect((await post('/notify', GRAFANA, { tag: 'deploys', text: 'tagged 4e1b' })).status).toBe(202);

  // INGEST_TOKEN (the admin token) and the senders of INGEST_NOTIFY_DIRECTLY post.
  const byAdmin = await post('/notify-directly', ADMIN, { channel: '#ops', text: 'by admin 4e1b' });
  expect(byAdmin.status).toBe(202);
  const byDeployer = await post('/notify-directly', DEPLOYER, { channel: '#ops', text: 'by deployer 4e1b' });
  expect(byDeployer.status).toBe(202);

  const records = await notifications();
  expect(withText(records, 'refused 4e1b')).toEqual([]);
  expect(withText(records, 'by admin 4e1b')[0]?.event?.data).toMatchObject({ kind: 'direct', channel: '#ops' });
  expect(withText(records, 'by admin 4e1b')[0]?.event?.data).not.toHaveProperty('authenticatedAs');
  expect(withText(records, 'by deployer 4e1b')[0]?.event?.data).toMatchObject({ kind: 'direct', authenticatedAs: 'deployer' });
  expect(withText(records, 'tagged 4e1b')[0]?.event?.data).toMatchObject({ kind: 'tag', authenticatedAs: 'grafana' });
});

test('what is written notifies no channel and no user group, in text, blocks and attachments; a person, links and plain text stay as sent', async () => {
  const pings = '<!channel> <!here|here> <!everyone> <!subteam^S0SRE|@sre> <!GROUP> @channel';
  const body = {
    channel: '#ops',
    text: `markup 9d2c ${pings} for <@U0ALICE>, see <https://ci.example/1|the build>`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `block 9d2c ${pings}` } },
      { type: 'header', text: { type: 'plain_text', text: 'plain <!channel> as written' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: '<!here> context' }] },
    ],
    attachments: [{ pretext: '<!channel>', text: 'attached <!everyone>', fallback: '<!here>', fields: [{ title: 't', value: '<!subteam^S0SRE>' }] }],
  };
  // What Slack would do with the message as sent: the check below would find these.
  expect(messageNotifications(body)).toEqual(['@channel', '@here', '@everyone', 'subteam:S0SRE', 'user:U0ALICE']);

  expect((await post('/notify-directly', DEPLOYER, body)).status).toBe(202);
  const [record] = withText(await notifications(), 'markup 9d2c');
  const data = record!.event!.data as { text: string; blocks: unknown[]; attachments: unknown[] };
  expect(messageNotifications(data)).toEqual(['user:U0ALICE']);
  expect(data.text).toBe(
    'markup 9d2c &lt;!channel> &lt;!here|here> &lt;!everyone> &lt;!subteam^S0SRE|@sre> &lt;!GROUP> @channel for <@U0ALICE>, see <https://ci.example/1|the build>',
  );
  expect(data.blocks[1]).toEqual(body.blocks[1]);
  expect(data.attachments).toEqual([
    { pretext: '&lt;!channel>', text: 'attached &lt;!everyone>', fallback: '&lt;!here>', fields: [{ title: 't', value: '&lt;!subteam^S0SRE>' }] },
  ]);
});

test('rich_text broadcast and user-group elements, at any depth, are written as the text they stand for; a person stays mentioned', async () => {
  const body = {
    channel: '#alerts',
    text: 'direct2 fallback 5b7e',
    blocks: [
      {
        type: 'rich_text',
        elements: [
          BROADCAST_SECTION,
          { type: 'rich_text_list', style: 'bullet', elements: [{ type: 'rich_text_section', elements: [{ type: 'broadcast', range: 'here', style: { bold: true } }] }] },
          { type: 'rich_text_quote', elements: [{ type: 'user', user_id: 'U0ALICE' }] },
        ],
      },
    ],
  };
  expect(messageNotifications(body)).toEqual(['@channel', '@everyone', 'subteam:S0SRE', '@here', 'user:U0ALICE']);

  expect((await post('/notify-directly', ADMIN, body)).status).toBe(202);
  const [record] = withText(await notifications(), 'direct2 fallback 5b7e');
  const data = record!.event!.data as { blocks: unknown[] };
  expect(messageNotifications(data)).toEqual(['user:U0ALICE']);
  expect(data.blocks).toEqual([
    {
      type: 'rich_text',
      elements: [
        BROADCAST_SECTION_AS_TEXT,
        { type: 'rich_text_list', style: 'bullet', elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: '@here', style: { bold: true } }] }] },
        { type: 'rich_text_quote', elements: [{ type: 'user', user_id: 'U0ALICE' }] },
      ],
    },
  ]);
});

test('username and icon_emoji are refused with 400 saying why, and nothing is written', async () => {
  for (const [field, value] of [
    ['username', 'Alice Smith'],
    ['icon_emoji', ':alice:'],
  ] as const) {
    const res = await post('/notify-directly', ADMIN, { channel: '#ops', text: `impersonating 7a0f ${field}`, [field]: value });
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: string; message: string };
    expect(answer.error).toBe('invalid_payload');
    expect(answer.message).toMatch(new RegExp(`^${field} is not accepted by /notify-directly: its messages are posted under the app's own name and icon`));
  }
  expect(withText(await notifications(), 'impersonating 7a0f')).toEqual([]);
});

test("a button with alertbus's own action_id is refused with 400 naming it, and nothing is written: its click would resolve an incident in the clicker's name", async () => {
  const button = { type: 'button', action_id: 'alertbus_resolve', text: { type: 'plain_text', text: 'Resolve' }, value: '{"alias":"db-down","incidentId":"inc-1"}' };
  const section = { type: 'section', text: { type: 'mrkdwn', text: 'db is down' } };
  const body = { channel: '#ops', text: 'own button 3c8d', blocks: [section, { type: 'actions', elements: [button] }] };
  const res = await post('/notify-directly', DEPLOYER, body);
  expect(res.status).toBe(400);
  expect(await res.json()).toEqual({
    error: 'invalid_payload',
    message: expect.stringMatching(/^blocks\[1\]\.elements\[0\]\.action_id "alertbus_resolve" is reserved: action_ids starting with "alertbus_" are alertbus's own buttons/),
  });
  // The same button under the sender's own action_id is posted.
  const own = { ...body, text: 'own button 3c8d renamed', blocks: [section, { type: 'actions', elements: [{ ...button, action_id: 'deploy_resolve' }] }] };
  expect((await post('/notify-directly', DEPLOYER, own)).status).toBe(202);
  expect(withText(await notifications(), 'own button 3c8d').map((r) => (r.event!.data as { text: string }).text)).toEqual(['own button 3c8d renamed']);
});

test('text that escaping would make longer than the limit is refused with 400, not cut', async () => {
  const text = '<!here>'.repeat(Math.floor(12_000 / 7));
  const res = await post('/notify-directly', ADMIN, { channel: '#ops', text });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { message: string }).message).toBe('text comes to more than 12000 characters once its @channel, @here and user-group mentions are escaped');
});
