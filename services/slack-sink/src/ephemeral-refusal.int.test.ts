/**
 * The refusal of a click (a viewer's Ack) must reach who clicked even in a channel they are not a member of, where
 * chat.postEphemeral answers user_not_in_channel: it goes to the click's response_url; and an ephemeral Slack will not
 * show there at all is given up with why, never dead-lettered. Real Kafka, real Postgres, the Slack stand-in over HTTP.
 */
import type { Consumer, Kafka } from 'kafkajs';
import pino from 'pino';
import type { DeliveryRetryPolicy } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { deriveId, makeEnvelope, newId, validateEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { responseUrl, startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { dropTestDatabase } from '../../../test/support/db';
import { waitFor } from '../../../test/support/wait';
import { startSlackSink, type SlackSink } from './index';
import { baseSinkConfig, kafkaSide } from './test-support/collect';
import { startForeignHost, type ForeignHost } from './test-support/foreign-host';

const TOKEN = 'xoxb-int-test';
const FAST_RETRIES: DeliveryRetryPolicy = { budgetMs: 10 * 60_000, minBackoffMs: 20, maxBackoffMs: 100 };
const RULE = { path: 'default', rulesVersion: 'test' };
const VIEWER = 'U0VIEWER';
/** A public channel the app posts to (chat:write.public) and the viewer never joined. */
const PUBLIC = 'C0PUBLIC';

let standIn: SlackStandIn;
let kafka: Kafka;
let producer: EventProducer;
let collector: Consumer;
let sink: SlackSink | undefined;
let foreign: ForeignHost;
const seen: AnyEnvelope[] = [];
const silent = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/** The refusal the router sends for a viewer's click on Ack, with the click's response_url when it had one. */
function refusal(name: string, text: string, url?: string): Envelope<'PostSlackEphemeral'> {
  const alias = `alertmanager:${name}`;
  const id = newId();
  const at = new Date().toISOString();
  const data = { incidentId: deriveId('incident', alias, 1), rule: RULE, channel: PUBLIC, user: VIEWER, text, ...(url ? { responseUrl: url } : {}) };
  const event = makeEnvelope({ id, type: 'PostSlackEphemeral', alias, occurredAt: at, recordedAt: at, source: 'router', causationId: id, correlationId: id, data } as never) as Envelope<'PostSlackEphemeral'>;
  const valid = validateEnvelope(event);
  if (!valid.ok) throw new Error(valid.error);
  return event;
}

const result = (command: AnyEnvelope) =>
  waitFor(() => seen.find((e) => (e.type === 'SlackEphemeralPosted' || e.type === 'DeliveryFailed') && (e.data as { commandId?: string }).commandId === command.id), {
    what: `the result of ${command.id}`,
  });
const deadLetters = (commandId: string) =>
  seen.filter((e) => e.type === 'DeadLettered' && (e.data as { origin: { value: string | null } }).origin.value?.includes(commandId));
const answersAt = (id: string) => standIn.state.responses.filter((r) => r.id === id).map((r) => r.body);

beforeAll(async () => {
  foreign = await startForeignHost();
  standIn = await startSlackStandIn({
    tokens: [TOKEN],
    channels: [{ id: PUBLIC, name: 'public-alerts', members: ['U0OTHER'] }],
    users: [
      { id: VIEWER, name: 'viewer' },
      { id: 'U0OTHER', name: 'other' },
    ],
  });
  ({ kafka, producer, collector } = await kafkaSide('ephemeral-refusal-int', seen, silent));
  sink = await startSlackSink({
    ...baseSinkConfig(TOKEN, standIn.url, silent),
    retryPolicy: FAST_RETRIES,
    updateHoldMs: 0,
  });
});

afterAll(async () => {
  await sink?.close();
  await collector?.disconnect();
  await producer?.disconnect();
  await standIn?.close();
  await foreign?.close();
  await dropTestDatabase();
});

describe('a refusal for a click, in a channel the clicker is not a member of', () => {
  it('reaches the clicker at the click\'s response_url, ephemeral and leaving the message alone; nothing is dead-lettered', async () => {
    const text = 'You may not acknowledge this incident: your role is viewer.';
    const command = refusal('viewer-click', text, responseUrl(standIn.url, 'viewer-click'));
    await producer.send([command]);

    const done = await result(command);
    expect(done.type).toBe('SlackEphemeralPosted');
    expect(done.data).toMatchObject({ commandId: command.id, channel: PUBLIC, user: VIEWER, via: 'response_url' });
    expect(answersAt('viewer-click')).toEqual([{ response_type: 'ephemeral', replace_original: false, text }]);
    expect(standIn.state.calls.filter((c) => c.method === 'chat.postEphemeral')).toEqual([]);
    expect(deadLetters(command.id)).toEqual([]);
  });

  it('without a usable response_url, Slack\'s user_not_in_channel gives it up with why: no dead letter', async () => {
    standIn.state.expiredResponseUrls.add('expired-click');
    const typed = refusal('typed-in-thread', 'You may not resolve this incident (typed).');
    const expired = refusal('expired-click', 'You may not resolve this incident (expired).', responseUrl(standIn.url, 'expired-click'));
    await producer.send([typed, expired]);

    for (const command of [typed, expired]) {
      const given = await result(command);
      expect(given.type).toBe('DeliveryFailed');
      expect(given.data).toMatchObject({ commandId: command.id, commandType: 'PostSlackEphemeral', target: 'slack', permanent: true });
      expect(String((given.data as { error: string }).error)).toMatch(/^requester-unreachable: .*user_not_in_channel/);
      expect(deadLetters(command.id)).toEqual([]);
    }
    expect(standIn.state.calls.filter((c) => c.method === 'chat.postEphemeral').map((c) => c.error)).toEqual(['user_not_in_channel', 'user_not_in_channel']);
    // Given up at the first refusal, not retried until the delivery budget runs out.
    expect(seen.filter((e) => e.type === 'DeliveryDelayed' && [typed.id, expired.id].includes((e.data as { commandId: string }).commandId))).toEqual([]);
  });
});

describe('a refusal for a click whose response_url is not on Slack\'s hosts (a record already on Kafka)', () => {
  it('is never posted there: chat.postEphemeral shows it, and where Slack will not, it is given up with why; no dead letter', async () => {
    const member = refusal('foreign-member', 'You may not acknowledge this incident (foreign).', `${foreign.url}/actions/T0STANDIN/1/forged-secret`);
    // The viewer is no member of PUBLIC: chat.postEphemeral answers user_not_in_channel.
    await producer.send([member]);
    const given = await result(member);
    expect(given.type).toBe('DeliveryFailed');
    expect(String((given.data as { error: string }).error)).toMatch(/^requester-unreachable: response_url is on http:\/\/127\.0\.0\.1:\d+, not on Slack's.*chat\.postEphemeral: .*user_not_in_channel/);
    expect(String((given.data as { error: string }).error)).not.toContain('forged-secret');
    expect(deadLetters(member.id)).toEqual([]);

    const other = refusal('foreign-other', 'You may not resolve this incident (foreign).', `${foreign.url}/actions/T0STANDIN/2/forged-secret`);
    const shown = { ...other, data: { ...other.data, user: 'U0OTHER' } };
    await producer.send([shown]);
    const done = await result(shown);
    expect(done.type).toBe('SlackEphemeralPosted');
    expect(done.data).toMatchObject({ commandId: shown.id, channel: PUBLIC, user: 'U0OTHER', via: 'chat.postEphemeral' });
    expect(standIn.state.ephemerals.filter((m) => m.text === 'You may not resolve this incident (foreign).').map((m) => m.user)).toEqual(['U0OTHER']);
    expect(foreign.requests).toEqual([]);
  });
});
