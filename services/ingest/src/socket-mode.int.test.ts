/**
 * Socket Mode against the real Kafka broker of the test run and the Slack stand-in's socket endpoint: an
 * envelope is acknowledged only once its event is on Kafka, and not at all when it could not be written.
 */
import type { Kafka } from 'kafkajs';
import { createLogger, createRegistry } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { TOPICS } from '@alertbus/schemas';
import { startSlackStandIn, type SlackStandIn, type SocketEnvelope } from '../../../packages/stand-ins/src/slack/server';
import { fixtureText } from '../../../test/support/fixtures';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { buildIngestApp } from './app';
import type { IngestProducer } from './accept';
import { SlackSocket } from './socket-mode';
import { fixedIdentity } from './slack/identity';
import { settled } from './test-support/retry';

const APP_TOKEN = 'xapp-1-A111-int-test';
const log = createLogger('ingest-socket-test', 'silent');
const ALIAS = 'slack:T111:C111:1610241741.000200';

let kafka: Kafka;
let producer: EventProducer;
let standIn: SlackStandIn;
const sockets: SlackSocket[] = [];

const envelope = (envelopeId: string): SocketEnvelope => ({ ...JSON.parse(fixtureText('slack/socket_mode_envelope_app_mention.json')), envelope_id: envelopeId });
const acked = (id: string) => standIn.socket.acks.some((a) => a.envelope_id === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const recordsOfAlias = async () => (await readTopic(kafka, TOPICS.slackReceived)).filter((r) => r.key === ALIAS);

function ingestWith(p: IngestProducer) {
  const { app, slackInbox } = buildIngestApp({
    producer: p,
    config: { bodyLimit: 1024 * 1024, kafkaTimeoutMs: 2_000 },
    registry: createRegistry('ingest'),
    log,
    slack: { identity: fixedIdentity({ userId: 'U111' }) },
  });
  const socket = new SlackSocket({ appToken: APP_TOKEN, apiUrl: standIn.url, inbox: { ...slackInbox, log }, log, retryDelaysMs: [200] });
  sockets.push(socket);
  return { app, socket };
}

beforeAll(async () => {
  kafka = await settled(() => testKafka('ingest-socket-test'));
  producer = new EventProducer(kafka);
  await producer.connect();
  standIn = await startSlackStandIn({ appTokens: [APP_TOKEN] });
});

afterAll(async () => {
  for (const s of sockets) await s.stop();
  await standIn?.close();
  await producer?.disconnect();
});

test('not written to Kafka → not acknowledged (Slack delivers again); written → acknowledged, once the record is there', async () => {
  // A producer that never connected: the write is refused (503) and the envelope must stay unacknowledged.
  const down = ingestWith(new EventProducer(kafka));
  expect((await down.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
  await down.socket.start();
  expect(down.socket.problem()).toBeNull();
  standIn.socket.push(envelope('env-while-down'));
  await sleep(1_500);
  expect(acked('env-while-down')).toBe(false);
  expect(await recordsOfAlias()).toHaveLength(0);
  await down.socket.stop();

  // Slack's redelivery reaches an ingest whose Kafka works: acknowledged, and the record is already on the topic.
  const up = ingestWith(producer);
  expect(up.socket.problem()).toMatch(/Socket Mode connection is not open/);
  // Ready all the same: webhooks need no Slack. Before, /readyz answered 503 without the socket, and Kubernetes took
  // every ingest out of its Service during a Slack outage or with a wrong xapp- token, alert webhooks with them.
  expect((await up.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  await up.socket.start();
  expect(up.socket.problem()).toBeNull();
  expect((await up.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  standIn.socket.push({ ...envelope('env-redelivered'), retry_attempt: 1, retry_reason: 'timeout' });
  for (let i = 0; i < 100 && !acked('env-redelivered'); i++) await sleep(50);
  expect(acked('env-redelivered')).toBe(true);
  const records = await recordsOfAlias();
  expect(records).toHaveLength(1);
  expect(records[0]!.event).toMatchObject({ type: 'SlackMessageReceived', data: { kind: 'mention', team: 'T111', eventId: 'Ev111', retryNum: 1, retryReason: 'timeout' } });
  expect(acked('env-while-down')).toBe(false);

  // A message the Socket Mode client cannot even dispatch is dropped, and the connection carries on.
  standIn.socket.push({ envelope_id: 'env-no-event', type: 'events_api', payload: {} });
  await sleep(300);
  expect(acked('env-no-event')).toBe(false);

  // An envelope no redelivery can fix is acknowledged (so Slack stops) and writes nothing.
  const broken = envelope('env-broken');
  delete ((broken.payload as Record<string, unknown>).event as Record<string, unknown>).channel;
  standIn.socket.push(broken);
  for (let i = 0; i < 100 && !acked('env-broken'); i++) await sleep(50);
  expect(acked('env-broken')).toBe(true);
  expect(await recordsOfAlias()).toHaveLength(1);
});
