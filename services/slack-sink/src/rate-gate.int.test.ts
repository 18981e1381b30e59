/**
 * Slack's rate limit on a method through the slack-sink, on a real Kafka broker and Postgres with the Slack stand-in:
 * after one chat.postMessage is answered 429, the commands of every other partition for that channel wait out its
 * Retry-After without calling Slack, other channels and other methods go on, and every command is delivered once.
 */
import type { Consumer } from 'kafkajs';
import pino from 'pino';
import type { DeliveryRetryPolicy } from '@alertbus/common';
import type { EventProducer } from '@alertbus/kafka';
import { deriveId, newId, type AnyEnvelope } from '@alertbus/schemas';
import { startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { dropTestDatabase } from '../../../test/support/db';
import { waitFor } from '../../../test/support/wait';
import { startSlackSink, type SlackSink } from './index';
import { baseSinkConfig, commandEnvelope as envelope, kafkaSide } from './test-support/collect';

const TOKEN = 'xoxb-rate-gate-test';
/** Back-off far shorter than the Retry-After, so only the Retry-After can explain a wait. */
const FAST_RETRIES: DeliveryRetryPolicy = { budgetMs: 10 * 60_000, minBackoffMs: 20, maxBackoffMs: 100 };
const RETRY_AFTER_S = 4;
const RULE = { path: 'default', rulesVersion: 'test' };
const silent = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

let standIn: SlackStandIn;
let producer: EventProducer;
let collector: Consumer;
let sink: SlackSink | undefined;
const seen: AnyEnvelope[] = [];

const incident = (name: string) => ({ alias: `alertmanager:${name}`, incidentId: deriveId('incident', `alertmanager:${name}`, 1) });
type Incident = ReturnType<typeof incident>;

const root = (inc: Incident, text: string, channel = '#alerts') =>
  envelope('PostSlackMessage', inc, { incidentId: inc.incidentId, rule: RULE, channel, purpose: 'root', text });
const update = (inc: Incident, text: string) => envelope('UpdateSlackMessage', inc, { incidentId: inc.incidentId, rule: RULE, text });

const results = (commandId: string, type: string) =>
  seen.filter((e) => e.type === type && (e.data as { commandId?: string }).commandId === commandId);
const delivered = (command: AnyEnvelope, type: string) =>
  waitFor(() => results(command.id, type).length > 0, { what: `${type} for ${command.id}` });
const posts = () => standIn.state.calls.filter((c) => c.method === 'chat.postMessage');
const withCommand = (commandId: string) => standIn.state.messages.filter((m) => m.metadata?.event_payload.command_id === commandId);

beforeAll(async () => {
  standIn = await startSlackStandIn({ tokens: [TOKEN], channels: [{ id: 'C0ALERTS', name: 'alerts' }, { id: 'C0QUIET', name: 'quiet' }] });
  ({ producer, collector } = await kafkaSide('slack-sink-rate-gate-int', seen, silent));
  sink = await startSlackSink({ ...baseSinkConfig(TOKEN, standIn.url, silent), retryPolicy: FAST_RETRIES, updateHoldMs: 0 });
});

afterAll(async () => {
  await sink?.close();
  await collector?.disconnect();
  await producer?.disconnect();
  await standIn?.close();
  await dropTestDatabase();
});

it("after one 429, no partition calls chat.postMessage before its Retry-After; chat.update goes on; each command is delivered once", async () => {
  const U = incident(`rate-gate-updated-${newId()}`);
  const earlier = root(U, '[FIRING] posted before the rate limit');
  await producer.send([earlier]);
  await delivered(earlier, 'SlackMessagePosted');

  // Slack answers chat.postMessage 429 for a while shorter than the Retry-After it gives.
  standIn.state.failFor('chat.postMessage', { status: 429, retryAfter: RETRY_AFTER_S }, (RETRY_AFTER_S - 1) * 1000);
  const first = root(incident(`rate-gate-first-${newId()}`), '[FIRING] the first post refused');
  await producer.send([first]);
  const refused = await waitFor(() => posts().find((c) => c.status === 429), { what: 'the first 429' });
  await delivered(first, 'DeliveryDelayed');
  const holdEnds = Date.parse(refused.at) + RETRY_AFTER_S * 1000;

  // Commands of every partition (one incident each), and an update, while chat.postMessage is held.
  const others = Array.from({ length: 8 }, (_, i) => root(incident(`rate-gate-other-${i}-${newId()}`), `[FIRING] other ${i}`));
  const resolved = update(U, '[RESOLVED] updated while posts are held');
  // The update first: a command waits behind a held one of its own partition, whatever the method.
  await producer.send([resolved, ...others]);
  await delivered(resolved, 'SlackMessageUpdated');

  for (const command of [first, ...others]) await delivered(command, 'SlackMessagePosted');
  // None of them was made while Slack's limit lasted: one 429, not one per partition.
  const duringHold = posts().filter((c) => c !== refused && Date.parse(c.at) >= Date.parse(refused.at) && Date.parse(c.at) < holdEnds);
  expect(duringHold.map((c) => `${c.at} ${c.status}`)).toEqual([]);
  expect(posts().filter((c) => c.status === 429)).toHaveLength(1);
  // Held without a call: delayed with the wait left (one behind `first` in its partition just waited there).
  const held = others.flatMap((c) => results(c.id, 'DeliveryDelayed')).map((e) => e.data as { httpStatus?: number; retryAfterMs?: number });
  expect(held.length).toBeGreaterThan(0);
  for (const d of held) {
    expect(d.httpStatus).toBe(429);
    expect(d.retryAfterMs).toBeGreaterThan(0);
    expect(d.retryAfterMs).toBeLessThanOrEqual(RETRY_AFTER_S * 1000);
  }
  for (const command of [first, ...others]) {
    expect(results(command.id, 'SlackMessagePosted')).toHaveLength(1);
    expect(withCommand(command.id)).toHaveLength(1);
  }
  const updates = standIn.state.calls.filter((c) => c.method === 'chat.update');
  expect(updates.map((c) => c.status)).toEqual([200]);
  // Not held by chat.postMessage's limit: a held call is delayed at once, with the wait left. (Not timed against the
  // Retry-After: on a loaded machine the update may be made after it, and that would say nothing about the gate.)
  expect(results(resolved.id, 'DeliveryDelayed')).toEqual([]);
});

it("a 429 on one channel's post holds that channel only: the other channel's incidents are posted without waiting", async () => {
  // Slack's per-channel limit (about a message a second): only #alerts is answered 429.
  standIn.state.failFor('chat.postMessage', { status: 429, retryAfter: 6 }, 5_000, 'C0ALERTS');
  const stormy = root(incident(`rate-gate-stormy-${newId()}`), '[FIRING] the storm channel refused');
  await producer.send([stormy]);
  const refused = await waitFor(() => posts().find((c) => c.status === 429 && c.args.text === '[FIRING] the storm channel refused'), { what: 'the 429 in #alerts' });
  await delivered(stormy, 'DeliveryDelayed');

  // Incidents of several partitions into the other channel, while #alerts is held.
  const quiet = Array.from({ length: 4 }, (_, i) => root(incident(`rate-gate-quiet-${i}-${newId()}`), `[FIRING] quiet ${i}`, '#quiet'));
  await producer.send(quiet);
  for (const command of quiet) await delivered(command, 'SlackMessagePosted');
  // None was refused by #alerts' hold (one behind `stormy` in its partition just waited there, without a call).
  expect(quiet.flatMap((c) => results(c.id, 'DeliveryDelayed')).map((e) => String((e.data as { lastError?: string }).lastError))).toEqual([]);
  expect(posts().filter((c) => c.args.channel === 'C0QUIET').map((c) => c.status)).toEqual([200, 200, 200, 200]);

  await delivered(stormy, 'SlackMessagePosted');
  // #alerts was called again only once its Retry-After was over: one 429 there, not one per command.
  expect(posts().filter((c) => c.status === 429 && Date.parse(c.at) >= Date.parse(refused.at))).toEqual([refused]);
  for (const command of [stormy, ...quiet]) expect(withCommand(command.id)).toHaveLength(1);
});
