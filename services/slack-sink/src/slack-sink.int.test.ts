/**
 * The slack-sink against a real Kafka broker, a real Postgres and the Slack stand-in over HTTP: one thread per
 * incident, at most one Slack effect per command (ledger, reconciliation after a crash), retries honouring
 * Retry-After, permanent failures dead-lettered, the thread kept across restarts, and dry-run without a token.
 */
import type { Consumer, Kafka } from 'kafkajs';
import pino from 'pino';
import { LogLevel, WebClient } from '@slack/web-api';
import { createPool, type Pool, type DeliveryRetryPolicy, type RetryPolicy } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { CommandLedger } from '@alertbus/sink-runtime';
import {
  GROUPS,
  TOPICS,
  deriveId,
  makeEnvelope,
  newId,
  validateEnvelope,
  type AnyEnvelope,
  type Envelope,
} from '@alertbus/schemas';
import { startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { dropTestDatabase } from '../../../test/support/db';
import { waitFor } from '../../../test/support/wait';
import { SLACK_SINK, startSlackSink, type SlackSink, type SlackSinkConfig } from './index';
import { baseSinkConfig, commandEnvelope as envelope, kafkaSide } from './test-support/collect';

const TOKEN = 'xoxb-int-test';
/** Deliveries retry quickly here; the budget is long enough never to run out in these tests. */
const FAST_RETRIES: DeliveryRetryPolicy = { budgetMs: 10 * 60_000, minBackoffMs: 20, maxBackoffMs: 100 };
const FAST_LOOKUPS: RetryPolicy = { retries: 3, minTimeoutMs: 20, maxTimeoutMs: 100, maxRetryAfterMs: 5_000 };
/** Calls one reconciliation look-up makes while Slack does not answer it (FAST_LOOKUPS: the first and 3 retries). */
const LOOKUP_ATTEMPTS = 4;
const ONCALL_LOOKUP_ATTEMPTS = 4;
const RULE = { path: 'default', rulesVersion: 'test' };
/** SLACK_UPDATE_HOLD_MS here: a message's updates at most one a second, as by default. */
const HOLD_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let standIn: SlackStandIn;
let kafka: Kafka;
let producer: EventProducer;
let collector: Consumer;
let pool: Pool;
let sink: SlackSink | undefined;
let config: SlackSinkConfig;
const seen: AnyEnvelope[] = [];
const silent = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

// ------------------------------------------------------------------ commands, as the router would send them

const incident = (name: string) => ({ alias: `alertmanager:${name}`, incidentId: deriveId('incident', `alertmanager:${name}`, 1) });
type Incident = ReturnType<typeof incident>;

function envelopeFields(alias: string) {
  const at = new Date().toISOString();
  const id = newId();
  return { id, alias, occurredAt: at, recordedAt: at, source: 'router', causationId: id, correlationId: id };
}


const post = (inc: Incident, purpose: 'root' | 'reply', text: string, channel = '#alerts') =>
  envelope('PostSlackMessage', inc, {
    incidentId: inc.incidentId,
    rule: RULE,
    channel,
    purpose,
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } }],
  });

const update = (inc: Incident, text: string) =>
  envelope('UpdateSlackMessage', inc, { incidentId: inc.incidentId, rule: RULE, text });

/** An update that replaces the root whole (text and blocks), as the router renders roots and storm summaries. */
const replace = (inc: Incident, text: string) =>
  envelope('UpdateSlackMessage', inc, {
    incidentId: inc.incidentId,
    rule: RULE,
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `*${text}*` } }],
  });

// ------------------------------------------------------------------ observing

const RESULT_ASIDE = new Set(['DeadLettered', 'DeliveryDelayed']);
/** The results of a command: what it did or why it failed (DeliveryDelayed, a wait on the way, aside). */
const deliveries = (commandId: string) =>
  seen.filter((e) => !RESULT_ASIDE.has(e.type) && (e.data as { commandId?: string }).commandId === commandId);
const delays = (commandId: string) =>
  seen.filter((e) => e.type === 'DeliveryDelayed' && (e.data as { commandId?: string }).commandId === commandId);

async function delivered(command: AnyEnvelope, times = 1): Promise<AnyEnvelope> {
  await waitFor(() => deliveries(command.id).length >= times, { what: `${times} delivery event(s) for ${command.type} ${command.id}` });
  return deliveries(command.id)[0]!;
}

const data = (e: AnyEnvelope) => e.data as Record<string, unknown>;
const slackCalls = (method: string) => standIn.state.calls.filter((c) => c.method === method);

/** A new incident's root message, posted; with the chat.update calls made on it since. */
async function postedRoot(name: string, text: string) {
  const S = incident(name);
  const root = post(S, 'root', text);
  await producer.send([root]);
  const ts = data(await delivered(root)).ts;
  return { S, ts, updatesOf: () => slackCalls('chat.update').filter((c) => c.args.ts === ts) };
}

const withCommand = (commandId: string) =>
  standIn.state.messages.filter((m) => m.metadata?.event_payload.command_id === commandId);
const slackMessage = (ts: unknown) => standIn.state.messages.find((m) => m.ts === ts);

async function startSink(overrides: Partial<SlackSinkConfig> = {}): Promise<SlackSink> {
  sink = await startSlackSink({ ...config, ...overrides });
  return sink;
}

beforeAll(async () => {
  standIn = await startSlackStandIn({
    tokens: [TOKEN],
    channels: [
      { id: 'C0ALERTS', name: 'alerts' },
      { id: 'C0OPS', name: 'ops' },
    ],
  });
  ({ kafka, producer, collector } = await kafkaSide('slack-sink-int', seen, silent));
  config = {
    ...baseSinkConfig(TOKEN, standIn.url, silent),
    retryPolicy: FAST_RETRIES,
    lookupRetry: FAST_LOOKUPS,
    onCallLookupAttempts: ONCALL_LOOKUP_ATTEMPTS,
    updateHoldMs: HOLD_MS,
  };
  await startSink();
  pool = createPool(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await sink?.close();
  await collector?.disconnect();
  await producer?.disconnect();
  await pool?.end();
  await standIn?.close();
  await dropTestDatabase();
});

// ------------------------------------------------------------------ the specification

const A = incident('disk-full');
const rootA = post(A, 'root', '[FIRING] Disk full on db-1');
const replyA = post(A, 'reply', 'Disk full fired again (2)');
const updateA = update(A, '[RESOLVED] Disk full on db-1');
let rootTs: string;

describe('slack-sink', () => {
  it('posts one root message per incident, replies in its thread and updates the root in place', async () => {
    await producer.send([rootA, replyA, updateA]);
    const [posted, reply, updated] = [await delivered(rootA), await delivered(replyA), await delivered(updateA)];

    const top = standIn.state.messages.filter((m) => m.channel === 'C0ALERTS' && !m.thread_ts);
    expect(top).toHaveLength(1);
    const root = top[0]!;
    rootTs = root.ts;
    expect(root).toMatchObject({
      text: '[RESOLVED] Disk full on db-1',
      updates: 1,
      metadata: { event_type: 'alertbus_command', event_payload: { command_id: rootA.id, incident_id: A.incidentId } },
    });
    const replies = standIn.state.messages.filter((m) => m.thread_ts === root.ts);
    expect(replies.map((m) => m.text)).toEqual(['Disk full fired again (2)']);

    expect(posted).toMatchObject({ id: deriveId(rootA.id, 'delivery'), type: 'SlackMessagePosted', alias: A.alias, causationId: rootA.id });
    expect(data(posted)).toMatchObject({ channel: 'C0ALERTS', ts: root.ts, purpose: 'root', dryRun: false, attempts: 1, incidentId: A.incidentId });
    expect(data(reply)).toMatchObject({ channel: 'C0ALERTS', ts: replies[0]!.ts, threadTs: root.ts, purpose: 'reply' });
    expect(updated.type).toBe('SlackMessageUpdated');
    expect(data(updated)).toMatchObject({ channel: 'C0ALERTS', ts: root.ts });

    const { rows } = await pool.query('SELECT channel_id, root_ts FROM slack_threads WHERE incident_id = $1', [A.incidentId]);
    expect(rows).toEqual([{ channel_id: 'C0ALERTS', root_ts: root.ts }]);
  });

  it('does not call Slack again for commands it already completed, and re-emits the same delivery events', async () => {
    const callsBefore = standIn.state.calls.length;
    await producer.send([rootA, replyA, updateA]);
    for (const command of [rootA, replyA, updateA]) {
      await delivered(command, 2);
      const [first, again] = deliveries(command.id);
      expect(again).toEqual(first);
    }
    expect(standIn.state.calls.length).toBe(callsBefore);
    expect(standIn.state.messages).toHaveLength(2);
  });

  it('waits out a 429 with Retry-After, then delivers once', async () => {
    standIn.state.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const before = slackCalls('chat.postMessage').length;
    const reply = post(A, 'reply', 'rate limited once');
    await producer.send([reply]);
    const event = await delivered(reply);

    const calls = slackCalls('chat.postMessage').slice(before);
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(Date.parse(calls[1]!.at) - Date.parse(calls[0]!.at)).toBeGreaterThanOrEqual(1000);
    expect(withCommand(reply.id)).toHaveLength(1);
    expect(data(event)).toMatchObject({ attempts: 2, threadTs: rootTs });
    expect(delays(reply.id).map(data)).toEqual([expect.objectContaining({ target: 'slack', attempts: 1, httpStatus: 429, retryAfterMs: 1000 })]);
  });

  it('retries 5xx answers and delivers', async () => {
    standIn.state.failNext('chat.postMessage', { status: 500 }, 2);
    const reply = post(A, 'reply', 'after two 500s');
    await producer.send([reply]);
    const event = await delivered(reply);
    expect(event.type).toBe('SlackMessagePosted');
    expect(data(event)).toMatchObject({ attempts: 3, threadTs: rootTs });
    expect(withCommand(reply.id)).toHaveLength(1);
    expect(delays(reply.id).map((e) => data(e).attempts)).toEqual([1, 2]);
  });

  // chat.postMessage documents `rate_limited` ("Application has posted too many messages"), answered HTTP 200 ok:false
  // with no 429: a delay, not a refusal. Dead-lettering the root failed every later reply with "no root message".
  it('delays a root post Slack answers ok:false rate_limited, posts it once, and replies in its thread', async () => {
    const R = incident('root-rate-limited');
    const root = post(R, 'root', '[FIRING] posted while rate limited');
    const reply = post(R, 'reply', 'fired again after the rate limit');
    standIn.state.failNext('chat.postMessage', { ok: false, error: 'rate_limited' });
    await producer.send([root, reply]);

    const event = await delivered(root);
    expect(event.type).toBe('SlackMessagePosted');
    expect(data(event)).toMatchObject({ attempts: 2, purpose: 'root', channel: 'C0ALERTS' });
    expect(withCommand(root.id)).toHaveLength(1);
    expect(delays(root.id).map(data)).toEqual([expect.objectContaining({ target: 'slack', attempts: 1, lastError: expect.stringMatching(/rate_limited/) })]);
    const replied = await delivered(reply);
    expect(data(replied)).toMatchObject({ threadTs: data(event).ts, purpose: 'reply' });
    expect(withCommand(reply.id)).toEqual([expect.objectContaining({ thread_ts: data(event).ts })]);
  });

  it('delays a reply while the free workspace is over its message limit (message_limit_exceeded), then posts it once', async () => {
    standIn.state.failNext('chat.postMessage', { ok: false, error: 'message_limit_exceeded' }, 2);
    const reply = post(A, 'reply', 'after the usage limit');
    await producer.send([reply]);
    const event = await delivered(reply);
    expect(event.type).toBe('SlackMessagePosted');
    expect(data(event)).toMatchObject({ attempts: 3, threadTs: rootTs });
    expect(withCommand(reply.id)).toHaveLength(1);
  });

  // With SLACK_BOT_TOKEN alone (no OAuth installations), a refused token refuses every command alike: a fault of the
  // sink's configuration that an operator fixes, not of the command. It was dead-lettered at its first attempt.
  it('waits while Slack refuses SLACK_BOT_TOKEN (invalid_auth), says so on /readyz and in a metric, then posts root and reply once', async () => {
    const T = incident('token-refused');
    const root = post(T, 'root', '[FIRING] posted once the token is taken again');
    const reply = post(T, 'reply', 'fired again while the token was refused');
    const refusedMetric = /^alertbus_slack_token_refused\{[^}]*\} 1$/m;
    standIn.state.failFor('*', { ok: false, error: 'invalid_auth' }, 10 * 60_000);
    try {
      await producer.send([root, reply]);
      await waitFor(() => delays(root.id).length >= 3, { what: 'three delays of the root post while the token is refused' });
      const ready = await fetch(`${sink!.opsUrl}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { reason: string }).reason).toMatch(/Slack refuses SLACK_BOT_TOKEN \(invalid_auth\)/);
      expect(await (await fetch(`${sink!.opsUrl}/metrics`)).text()).toMatch(refusedMetric);
    } finally {
      standIn.state.clearFaults();
    }

    const event = await delivered(root);
    expect(event.type).toBe('SlackMessagePosted');
    expect(data(event).attempts).toBeGreaterThanOrEqual(4);
    expect(withCommand(root.id)).toHaveLength(1);
    for (const delay of delays(root.id).map(data)) {
      expect(delay).toMatchObject({ target: 'slack', lastError: expect.stringMatching(/^Slack answered invalid_auth — Slack refused SLACK_BOT_TOKEN/) });
      expect(JSON.stringify(delay)).not.toContain(TOKEN);
    }
    const replied = await delivered(reply);
    expect(data(replied)).toMatchObject({ threadTs: data(event).ts, purpose: 'reply' });
    expect(withCommand(reply.id)).toHaveLength(1);
    const dead = seen.filter((e) => e.type === 'DeadLettered' && JSON.stringify(e.data).includes(root.id));
    expect(dead).toEqual([]);
    expect(await waitFor(async () => (await fetch(`${sink!.opsUrl}/readyz`)).ok, { what: '/readyz ready again' })).toBe(true);
    expect(await (await fetch(`${sink!.opsUrl}/metrics`)).text()).not.toMatch(refusedMetric);
  });

  it('fails a command Slack refuses for good once, dead-letters it, and goes on with the next', async () => {
    const B = incident('unknown-channel');
    const doomed = post(B, 'root', 'to a channel that does not exist', '#does-not-exist');
    const B2 = { alias: B.alias, incidentId: deriveId('incident', B.alias, 2) };
    const next = post(B2, 'root', 'same alias, next occurrence, real channel', '#ops');
    await producer.send([doomed, next]);

    const failed = await delivered(doomed);
    expect(failed.type).toBe('DeliveryFailed');
    expect(data(failed)).toMatchObject({ target: 'slack', permanent: true, attempts: 1, incidentId: B.incidentId });
    expect(String(data(failed).error)).toMatch(/channel_not_found/);
    expect(slackCalls('chat.postMessage').filter((c) => c.args.channel === '#does-not-exist')).toHaveLength(1);

    const dead = await waitFor(() =>
      seen.find((e) => e.type === 'DeadLettered' && (e.data as { origin: { key: string | null; value: string | null } }).origin.value?.includes(doomed.id)),
    );
    expect(dead.data).toMatchObject({ consumer: GROUPS.slackSink, origin: { topic: TOPICS.slackCommands, key: B.alias } });

    const ok = await delivered(next);
    expect(data(ok)).toMatchObject({ channel: 'C0OPS', purpose: 'root' });
    const ledger = await new CommandLedger(pool, SLACK_SINK).lookup(doomed.id);
    expect(ledger?.status).toBe('failed');
  });

  it('a root post Slack refuses for its channel says which channel and what to do, and so do the reply and update after it', async () => {
    const C = incident('not-invited');
    const root = post(C, 'root', 'disk full', '#ops');
    standIn.state.failNext('chat.postMessage', { ok: false, error: 'not_in_channel' });
    await producer.send([root]);
    const failed = await delivered(root);
    expect(failed.type).toBe('DeliveryFailed');
    expect(data(failed)).toMatchObject({ permanent: true, attempts: 1 });
    expect(String(data(failed).error)).toBe('Slack answered not_in_channel for channel #ops (C0OPS): invite the app to #ops (/invite @alertbus)');

    const reply = post(C, 'reply', 'still full', '#ops');
    const later = update(C, 'disk full (acknowledged)');
    await producer.send([reply, later]);
    const cause = 'its root post failed: Slack answered not_in_channel for channel #ops (C0OPS): invite the app to #ops (/invite @alertbus)';
    // A reply names the channel it was for; an update names none, its cause does.
    for (const [command, where] of [[reply, ' in #ops'], [later, '']] as const) {
      const orphan = await delivered(command);
      expect(orphan.type).toBe('DeliveryFailed');
      expect(data(orphan)).toMatchObject({ permanent: true, error: `no root message for incident ${C.incidentId}${where}: ${cause}` });
    }
  });

  it('fails a reply for an incident without a root message permanently', async () => {
    const orphan = post(incident('orphan'), 'reply', 'nobody posted my root');
    await producer.send([orphan]);
    const failed = await delivered(orphan);
    expect(failed.type).toBe('DeliveryFailed');
    expect(data(failed)).toMatchObject({ permanent: true, error: expect.stringMatching(/^no root message for incident \S+ in #alerts$/) });
  });

  it('keeps the thread across a restart of the sink', async () => {
    await sink!.close();
    await startSink();
    const reply = post(A, 'reply', 'after a restart');
    await producer.send([reply]);
    const event = await delivered(reply);
    expect(data(event)).toMatchObject({ threadTs: rootTs, channel: 'C0ALERTS' });
    expect(withCommand(reply.id)).toEqual([expect.objectContaining({ thread_ts: rootTs })]);
  });

  it('does not post twice when a run died between Slack\'s answer and the ledger write', async () => {
    const C = incident('crash-in-between');
    const root = post(C, 'root', '[FIRING] posted just before a crash');
    const reply = post(C, 'reply', 'reply posted just before a crash');
    const web = new WebClient(TOKEN, { slackApiUrl: standIn.url, retryConfig: { retries: 0 }, logLevel: LogLevel.ERROR });
    const ledger = new CommandLedger(pool, SLACK_SINK);
    const metadata = (command: AnyEnvelope) => ({
      event_type: 'alertbus_command',
      event_payload: { command_id: command.id, incident_id: C.incidentId },
    });

    // The earlier run: Slack has the message, the ledger only says "started".
    const earlier = await web.chat.postMessage({ channel: 'C0ALERTS', text: root.data.text, metadata: metadata(root) });
    await ledger.markStarted(root);
    await producer.send([root]);
    const event = await delivered(root);
    expect(data(event)).toMatchObject({ ts: earlier.ts, channel: 'C0ALERTS', purpose: 'root' });
    expect(withCommand(root.id)).toHaveLength(1);
    expect((await ledger.lookup(root.id))?.status).toBe('completed');

    // The same for a reply, found among the thread's replies; the recovered root is the incident's thread.
    const earlierReply = await web.chat.postMessage({ channel: 'C0ALERTS', thread_ts: earlier.ts!, text: reply.data.text, metadata: metadata(reply) });
    await ledger.markStarted(reply);
    const later = post(C, 'reply', 'a normal reply after recovery');
    await producer.send([reply, later]);
    expect(data(await delivered(reply))).toMatchObject({ ts: earlierReply.ts, threadTs: earlier.ts, purpose: 'reply' });
    expect(withCommand(reply.id)).toHaveLength(1);
    expect(data(await delivered(later))).toMatchObject({ threadTs: earlier.ts });
    expect(withCommand(later.id)).toEqual([expect.objectContaining({ thread_ts: earlier.ts })]);
  });

  // A post Slack took whose answer was lost (a timeout, a dropped connection) leaves the ledger "started"; the next
  // attempt looks for the message first. While that look-up gets no answer either, nothing is posted.
  it('posts a notification once when its answer was lost and the channel look-up went unanswered at first', async () => {
    const n = makeEnvelope({
      ...envelopeFields('notification:lost-answer'),
      type: 'PostNotification',
      data: { notificationId: newId(), rule: RULE, channel: '#alerts', text: 'Deploy of api finished' },
    } as never) as AnyEnvelope;
    expect(validateEnvelope(n)).toMatchObject({ ok: true });
    standIn.state.failNext('chat.postMessage', { loseAnswer: true });
    // Two whole look-ups (each with its retries) unanswered: 503, then 429 with a Retry-After.
    standIn.state.failNext('conversations.history', { status: 503 }, LOOKUP_ATTEMPTS);
    standIn.state.failNext('conversations.history', { status: 429, retryAfter: 0 }, LOOKUP_ATTEMPTS);
    const historyCallsBefore = slackCalls('conversations.history').length;
    await producer.send([n]);
    const event = await delivered(n);
    const posted = withCommand(n.id);
    expect(posted).toHaveLength(1);
    expect(event.type).toBe('NotificationPosted');
    expect(data(event)).toMatchObject({ channel: 'C0ALERTS', ts: posted[0]!.ts });
    expect(slackCalls('conversations.history').length - historyCallsBefore).toBeGreaterThan(2 * LOOKUP_ATTEMPTS);
  });

  it('posts an incident reply once when its answer was lost and the thread look-up went unanswered at first', async () => {
    const { S, ts } = await postedRoot('reply-answer-lost', '[FIRING] reply answer lost');
    const reply = post(S, 'reply', 'fired again, answer lost');
    standIn.state.failNext('chat.postMessage', { loseAnswer: true });
    standIn.state.failNext('conversations.replies', { status: 503 }, 2 * LOOKUP_ATTEMPTS);
    await producer.send([reply]);
    const event = await delivered(reply);
    const posted = withCommand(reply.id);
    expect(posted).toEqual([expect.objectContaining({ thread_ts: ts })]);
    expect(data(event)).toMatchObject({ ts: posted[0]!.ts, threadTs: ts, purpose: 'reply' });
  });

  // A gateway that gave up waiting (504) or a bad gateway (502) does not say Slack did not post: looked up first.
  it('posts a root and a reply once when a gateway answered 504 / 502 after Slack had posted them', async () => {
    const G = incident('gateway-after-post');
    const root = post(G, 'root', '[FIRING] posted behind a timed-out gateway');
    const reply = post(G, 'reply', 'replied behind a bad gateway');
    standIn.state.failNext('chat.postMessage', { status: 504, body: '<html>504 Gateway Time-out</html>', afterWork: true });
    standIn.state.failNext('chat.postMessage', { status: 502, body: '<html>502 Bad Gateway</html>', afterWork: true });
    await producer.send([root, reply]);

    const rootEvent = await delivered(root);
    const rootPosted = withCommand(root.id);
    expect(rootPosted).toHaveLength(1);
    expect(data(rootEvent)).toMatchObject({ ts: rootPosted[0]!.ts, channel: 'C0ALERTS', purpose: 'root' });
    expect(delays(root.id).map(data)).toEqual([expect.objectContaining({ attempts: 1, httpStatus: 504 })]);
    const replyEvent = await delivered(reply);
    expect(withCommand(reply.id)).toEqual([expect.objectContaining({ thread_ts: rootPosted[0]!.ts })]);
    expect(data(replyEvent)).toMatchObject({ ts: withCommand(reply.id)[0]!.ts, threadTs: rootPosted[0]!.ts, purpose: 'reply' });
  });

  it('of several updates of one message in a batch, sends only the last whole one; the others are completed as superseded', async () => {
    const { S, ts, updatesOf } = await postedRoot('storm-summary', 'Storm in #alerts: 1 incident');

    const [u1, u2, u3] = [2, 3, 4].map((n) => replace(S, `Storm in #alerts: ${n} incidents`)) as [Envelope<'UpdateSlackMessage'>, Envelope<'UpdateSlackMessage'>, Envelope<'UpdateSlackMessage'>];
    const reply = post(S, 'reply', 'a reply between the updates');
    await producer.send([u1, reply, u2, u3]);
    expect(data(await delivered(u3))).toMatchObject({ ts, channel: 'C0ALERTS', attempts: 1 });
    expect(data(await delivered(reply))).toMatchObject({ threadTs: ts });
    expect(updatesOf().map((c) => c.args.text)).toEqual(['Storm in #alerts: 4 incidents']);
    expect(slackMessage(ts)).toMatchObject({ text: 'Storm in #alerts: 4 incidents', updates: 1 });

    const ledgerRows = async (ids: string[]) =>
      (await pool.query('SELECT command_id, status, superseded_by FROM sink_commands WHERE sink = $1 AND command_id = ANY($2)', [SLACK_SINK, ids])).rows;
    expect(await ledgerRows([u1.id, u2.id])).toEqual(
      expect.arrayContaining([
        { command_id: u1.id, status: 'completed', superseded_by: u3.id },
        { command_id: u2.id, status: 'completed', superseded_by: u3.id },
      ]),
    );
    expect(await ledgerRows([u3.id])).toEqual([{ command_id: u3.id, status: 'completed', superseded_by: null }]);
    expect(deliveries(u1.id)).toEqual([]);
    expect(deliveries(u2.id)).toEqual([]);

    // An update without blocks leaves Slack's earlier blocks in place: it supersedes nothing, but a whole one after it supersedes it.
    const partial1 = update(S, 'partial before');
    const whole = replace(S, 'Storm in #alerts: 5 incidents');
    const partial2 = update(S, 'partial after');
    await producer.send([partial1, whole, partial2]);
    await delivered(partial2);
    await delivered(whole);
    expect(updatesOf().map((c) => c.args.text)).toEqual(['Storm in #alerts: 4 incidents', 'Storm in #alerts: 5 incidents', 'partial after']);
    expect(await ledgerRows([partial1.id])).toEqual([{ command_id: partial1.id, status: 'completed', superseded_by: whole.id }]);
  });

  it('skips a superseded update whose earlier run died midway, and a redelivery of the batch calls Slack no more', async () => {
    const { S, ts, updatesOf } = await postedRoot('storm-summary-crash', 'Storm: 1 incident');

    const first = replace(S, 'Storm: 2 incidents');
    const last = replace(S, 'Storm: 3 incidents');
    await new CommandLedger(pool, SLACK_SINK).markStarted(first); // an earlier run died while sending it
    await producer.send([first, last]);
    await delivered(last);
    expect(updatesOf().map((c) => c.args.text)).toEqual(['Storm: 3 incidents']);
    expect((await new CommandLedger(pool, SLACK_SINK).lookup(first.id))?.status).toBe('completed');

    await producer.send([first, last]);
    await delivered(last, 2);
    const [once, again] = deliveries(last.id);
    expect(again).toEqual(once);
    expect(updatesOf()).toHaveLength(1);
    expect(slackMessage(ts)).toMatchObject({ text: 'Storm: 3 incidents', updates: 1 });
  });

  // A storm summary changes many times a second, and the router's transactions reach the sink in many small reads: each
  // read's last update alone would still be a chat.update per read, where Slack takes about one a second.
  it('holds the updates of a message that come within the hold of its last one, and sends only the latest when the hold ends', async () => {
    const { S, ts, updatesOf } = await postedRoot('held-summary', 'Storm: 0 incidents');
    const N = 20;
    const updates = Array.from({ length: N }, (_, i) => replace(S, `Storm: ${i + 1} incidents`));
    const started = Date.now();
    for (const [i, u] of updates.entries()) {
      await producer.send([u]); // one write each, read apart from the others
      if (i < N - 1) await sleep(50);
    }
    const duration = Date.now() - started;
    const last = updates.at(-1)!;
    expect(data(await delivered(last))).toMatchObject({ ts, channel: 'C0ALERTS' });

    const shown = updatesOf().map((c) => Number(/\d+/.exec(String(c.args.text))![0]));
    expect(shown.length).toBeLessThanOrEqual(Math.ceil(duration / HOLD_MS) + 1);
    expect(shown.at(-1)).toBe(N);
    // Never an older content after a newer one.
    expect(shown).toEqual([...new Set(shown)].sort((a, b) => a - b));
    expect(slackMessage(ts)).toMatchObject({ text: `Storm: ${N} incidents`, updates: shown.length });

    // Every update is done: sent, or completed as superseded by a later one that was.
    const { rows } = await pool.query<{ command_id: string; status: string; superseded_by: string | null }>(
      'SELECT command_id, status, superseded_by FROM sink_commands WHERE sink = $1 AND command_id = ANY($2)',
      [SLACK_SINK, updates.map((u) => u.id)],
    );
    expect(rows).toHaveLength(N);
    const position = new Map(updates.map((u, i) => [u.id, i]));
    for (const row of rows) {
      expect(row.status).toBe('completed');
      if (row.superseded_by !== null) expect(position.get(row.superseded_by)!).toBeGreaterThan(position.get(row.command_id)!);
    }
    expect(rows.filter((r) => r.superseded_by === null)).toHaveLength(shown.length);
  });

  it('records a held update nowhere: a sink stopped while holding it sends it after a restart, once', async () => {
    await sink!.close();
    await startSink({ updateHoldMs: 60_000 });
    const { S, ts, updatesOf } = await postedRoot('held-then-stopped', 'Storm: 0 incidents');
    const first = replace(S, 'Storm: 1 incident');
    await producer.send([first]);
    await delivered(first);
    const held = replace(S, 'Storm: 2 incidents');
    const holds = async () => {
      const metrics = await (await fetch(`${sink!.opsUrl}/metrics`)).text();
      return Number(/alertbus_sink_holds_total\{[^}]*command="UpdateSlackMessage"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    };
    const holdsBefore = await holds();
    await producer.send([held]);
    await waitFor(async () => (await holds()) > holdsBefore, { what: 'the second update held' });
    await sink!.close();

    expect(await new CommandLedger(pool, SLACK_SINK).lookup(held.id)).toBeUndefined();
    expect(slackMessage(ts)).toMatchObject({ text: 'Storm: 1 incident', updates: 1 });

    await startSink(); // a new process remembers no update: the held one goes out at once
    expect(data(await delivered(held))).toMatchObject({ ts, attempts: 1 });
    expect(updatesOf().map((c) => c.args.text)).toEqual(['Storm: 1 incident', 'Storm: 2 incidents']);
    expect(deliveries(held.id)).toHaveLength(1);
  });

  it('honours a 429 on a held update, and ends on the latest content', async () => {
    const { S, ts, updatesOf } = await postedRoot('held-rate-limited', 'Storm: 0 incidents');
    const first = replace(S, 'Storm: 1 incident');
    await producer.send([first]);
    await delivered(first);
    standIn.state.failNext('chat.update', { status: 429, retryAfter: 2 });
    const second = replace(S, 'Storm: 2 incidents');
    await producer.send([second]);
    await waitFor(() => delays(second.id).length > 0, { what: 'the second update rate limited' });
    const third = replace(S, 'Storm: 3 incidents');
    await producer.send([third]);
    await delivered(third);

    // The second is superseded by the third once the Retry-After is over (or, on a machine slow enough to write the third
    // only then, sent first): nothing reaches Slack within the Retry-After, and the last call is the latest content.
    const calls = updatesOf();
    expect(calls.slice(0, 2).map((c) => [c.args.text, c.status])).toEqual([
      ['Storm: 1 incident', 200],
      ['Storm: 2 incidents', 429],
    ]);
    for (const later of calls.slice(2)) expect(Date.parse(later.at) - Date.parse(calls[1]!.at)).toBeGreaterThanOrEqual(2_000);
    expect(calls.map((c) => [c.args.text, c.status]).at(-1)).toEqual(['Storm: 3 incidents', 200]);
    expect(slackMessage(ts)).toMatchObject({ text: 'Storm: 3 incidents' });
    expect((await new CommandLedger(pool, SLACK_SINK).lookup(second.id))?.status).toBe('completed');
  });

  it('runs dry without a token: delivery events say what would have been sent, Slack hears nothing', async () => {
    await sink!.close();
    await startSink({ token: undefined });
    expect(sink!.dryRun).toBe(true);
    const callsBefore = standIn.state.calls.length;
    const D = incident('dry-run');
    const root = post(D, 'root', '[FIRING] dry run');
    const upd = update(D, '[RESOLVED] dry run');
    await producer.send([root, upd]);

    const posted = await delivered(root);
    expect(data(posted)).toMatchObject({
      dryRun: true,
      attempts: 0,
      channel: '#alerts',
      ts: `dry-run:${root.id}`,
      request: {
        method: 'chat.postMessage',
        body: { channel: '#alerts', text: '[FIRING] dry run', metadata: { event_payload: { command_id: root.id } } },
      },
    });
    const updated = await delivered(upd);
    expect(updated.type).toBe('SlackMessageUpdated');
    expect(data(updated)).toMatchObject({ dryRun: true, request: { method: 'chat.update', body: { text: '[RESOLVED] dry run' } } });

    expect(standIn.state.calls.length).toBe(callsBefore);
    const { rows } = await pool.query('SELECT 1 FROM slack_threads WHERE incident_id = $1', [D.incidentId]);
    expect(rows).toHaveLength(0);
  });

  it('serves /healthz, /readyz and /metrics', async () => {
    const ready = await waitFor(async () => (await fetch(`${sink!.opsUrl}/readyz`)).ok);
    expect(ready).toBe(true);
    const metrics = await (await fetch(`${sink!.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/alertbus_sink_deliveries_total\{[^}]*outcome="dry-run"/);
  });
});
