/**
 * Slash commands over Socket Mode against the real Kafka broker and the Slack stand-in's socket endpoint: the
 * same SlackSlashCommandReceived as over HTTP, the envelope acknowledged only once it is on Kafka; another
 * command name is answered in the acknowledgement's payload.
 */
import type { Kafka } from 'kafkajs';
import { createLogger, createRegistry } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { deriveId, TOPICS } from '@alertbus/schemas';
import { startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { buildIngestApp } from './app';
import { SlackSocket } from './socket-mode';
import { fixedIdentity } from './slack/identity';
import { settled } from './test-support/retry';

const APP_TOKEN = 'xapp-1-A222-slash-int-test';
const log = createLogger('ingest-slash-socket-test', 'silent');

let kafka: Kafka;
let producer: EventProducer;
let standIn: SlackStandIn;
let socket: SlackSocket;

const acks = (id: string) => standIn.socket.acks.filter((a) => a.envelope_id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A slash_commands envelope: its payload is the form Slack would have POSTed, as an object. */
const envelope = (id: string, payload: Record<string, string>) => ({
  envelope_id: id,
  type: 'slash_commands',
  accepts_response_payload: true,
  payload: {
    team_id: 'T222',
    channel_id: 'C222',
    user_id: 'U222',
    user_name: 'sam',
    command: '/alertbus',
    text: 'help',
    response_url: 'https://hooks.slack.com/commands/T222/1/x',
    trigger_id: `trigger-${id}`,
    ...payload,
  },
});

beforeAll(async () => {
  kafka = await settled(() => testKafka('ingest-slash-socket-test'));
  producer = new EventProducer(kafka);
  await producer.connect();
  standIn = await startSlackStandIn({ appTokens: [APP_TOKEN] });
  const { slackInbox } = buildIngestApp({
    producer,
    config: { bodyLimit: 1024 * 1024, kafkaTimeoutMs: 2_000 },
    registry: createRegistry('ingest'),
    log,
    slack: { identity: fixedIdentity({ userId: 'U111' }) },
  });
  socket = new SlackSocket({ appToken: APP_TOKEN, apiUrl: standIn.url, inbox: { ...slackInbox, log }, log, retryDelaysMs: [200] });
  await socket.start();
});

afterAll(async () => {
  await socket?.stop();
  await standIn?.close();
  await producer?.disconnect();
});

test('a slash_commands envelope → the same SlackSlashCommandReceived as over HTTP (via socket-mode), acknowledged once on Kafka', async () => {
  const id = `env-slash-${Date.now()}`;
  standIn.socket.push(envelope(id, { text: 'resolve generic:db-disk' }));
  for (let i = 0; i < 200 && acks(id).length === 0; i++) await sleep(50);
  expect(acks(id)).toHaveLength(1);
  expect(acks(id)[0]!.payload ?? {}).toEqual({}); // nothing to show: the answer follows at the response_url
  const eventId = deriveId('slack-slash', 'T222', `trigger-${id}`);
  const records = (await settled(() => readTopic(kafka, TOPICS.slackReceived))).filter((r) => r.event?.id === eventId);
  expect(records).toHaveLength(1);
  expect(records[0]!.key).toBe('generic:db-disk');
  expect(records[0]!.event).toMatchObject({ type: 'SlackSlashCommandReceived', data: { text: 'resolve generic:db-disk', team: 'T222', user: 'U222', via: 'socket-mode' } });
});

test('another command name is answered in the acknowledgement and not recorded', async () => {
  const id = `env-other-${Date.now()}`;
  standIn.socket.push(envelope(id, { command: '/deploy' }));
  for (let i = 0; i < 200 && acks(id).length === 0; i++) await sleep(50);
  expect(acks(id)[0]!.payload).toEqual({ response_type: 'ephemeral', text: expect.stringContaining('This app answers /alertbus, not /deploy') });
  const eventId = deriveId('slack-slash', 'T222', `trigger-${id}`);
  expect((await readTopic(kafka, TOPICS.slackReceived)).filter((r) => r.event?.id === eventId)).toEqual([]);
});

test('a command over the bounds is refused in the acknowledgement, naming what is wrong, and not recorded', async () => {
  const id = `env-long-${Date.now()}`;
  standIn.socket.push(envelope(id, { text: `silence ${'x'.repeat(4_000)}` }));
  for (let i = 0; i < 200 && acks(id).length === 0; i++) await sleep(50);
  expect(acks(id)).toHaveLength(1);
  expect(acks(id)[0]!.payload).toEqual({ response_type: 'ephemeral', text: expect.stringMatching(/^alertbus could not take this command: \/text: .*4000/) });
  const eventId = deriveId('slack-slash', 'T222', `trigger-${id}`);
  expect((await readTopic(kafka, TOPICS.slackReceived)).filter((r) => r.event?.id === eventId)).toEqual([]);
});
