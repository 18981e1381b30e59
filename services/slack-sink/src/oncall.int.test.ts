/**
 * The slack-sink's thread commands against a real Kafka broker, a real Postgres and the Slack and Opsgenie
 * stand-ins over HTTP: the on-call answer (acknowledgement, then the on-call people mentioned, found through
 * Opsgenie's who-is-on-call and Slack's users by email), its cache and "cache clear", command replies, each
 * message at most once across retries and crashes, and the on-call user group job.
 */
import type { Consumer, Kafka } from 'kafkajs';
import pino from 'pino';
import { createPool, type Pool, type DeliveryRetryPolicy, type RetryPolicy } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { CommandLedger } from '@alertbus/sink-runtime';
import {
  makeEnvelope,
  newId,
  validateEnvelope,
  type AnyEnvelope,
  type Envelope,
} from '@alertbus/schemas';
import { OPSGENIE_STAND_IN_KEY, startOpsgenieStandIn, type OpsgenieStandIn } from '../../../packages/stand-ins/src/opsgenie/server';
import { startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { dropTestDatabase } from '../../../test/support/db';
import { waitFor } from '../../../test/support/wait';
import { SLACK_SINK, startSlackSink, type SlackSink } from './index';
import { baseSinkConfig, kafkaSide } from './test-support/collect';

const TOKEN = 'xoxb-oncall-test';
/** Deliveries retry quickly here; the budget is long enough never to run out in these tests. */
const FAST_RETRIES: DeliveryRetryPolicy = { budgetMs: 10 * 60_000, minBackoffMs: 20, maxBackoffMs: 100 };
const FAST_LOOKUPS: RetryPolicy = { retries: 3, minTimeoutMs: 20, maxTimeoutMs: 100, maxRetryAfterMs: 5_000 };
const ONCALL_LOOKUP_ATTEMPTS = 4;
const RULE = { path: 'default', rulesVersion: 'test' };
const silent = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

let slack: SlackStandIn;
let opsgenie: OpsgenieStandIn;
let kafka: Kafka;
let producer: EventProducer;
let collector: Consumer;
let pool: Pool;
let sink: SlackSink;
const seen: AnyEnvelope[] = [];

// ------------------------------------------------------------------ commands, as the router will send them

type ThreadCommandType = 'ReplyWithOnCall' | 'ClearOnCallCache' | 'PostSlackReply';

function command<T extends ThreadCommandType>(type: T, alias: string, data: Envelope<T>['data']): Envelope<T> {
  const at = new Date().toISOString();
  const id = newId();
  const event = makeEnvelope({ id, type, alias, occurredAt: at, recordedAt: at, source: 'router', causationId: id, correlationId: id, data } as never) as Envelope<T>;
  const valid = validateEnvelope(event);
  if (!valid.ok) throw new Error(valid.error);
  return event;
}

/** A person's message in #ops that the app is asked about: the thread the answers go to. */
function askInOps(text = '<@U0ALERTBUS> is anyone around?') {
  const m = slack.state.addMessage({ channel: 'C0OPS', text, user: 'U0ASKER' });
  return { channel: 'C0OPS', threadTs: m.ts, alias: `slack:T0ALERTBUS:C0OPS:${m.ts}` };
}

function replyWithOnCall(thread: ReturnType<typeof askInOps>, schedule = 'ops') {
  return command('ReplyWithOnCall', thread.alias, {
    rule: RULE,
    channel: thread.channel,
    threadTs: thread.threadTs,
    schedule,
    requester: 'U0ASKER',
    acknowledgement: 'Looking for the on-call…',
  });
}

// ------------------------------------------------------------------ observing

/** A command's result (DeliveryDelayed, a wait on the way, aside). */
const delivery = (commandId: string) =>
  seen.find((e) => e.type !== 'DeadLettered' && e.type !== 'DeliveryDelayed' && (e.data as { commandId?: string }).commandId === commandId);

async function delivered(c: AnyEnvelope): Promise<AnyEnvelope> {
  return waitFor(() => delivery(c.id), { what: `the delivery event of ${c.type} ${c.id}` });
}

const data = (e: AnyEnvelope) => e.data as Record<string, unknown>;
const threadReplies = (threadTs: string) => slack.state.messages.filter((m) => m.thread_ts === threadTs && m.ts !== threadTs);
const onCallLookups = (schedule: string) =>
  opsgenie.state.calls.filter((c) => c.route === 'onCalls' && c.url.startsWith(`/v2/schedules/${schedule}/on-calls`));

beforeAll(async () => {
  slack = await startSlackStandIn({
    tokens: [TOKEN],
    channels: [
      { id: 'C0ALERTS', name: 'alerts' },
      { id: 'C0OPS', name: 'ops' },
    ],
    users: [
      { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
      { id: 'U0BOB', name: 'bob', email: 'bob@example.com' },
      { id: 'U0CAROL', name: 'carol', email: 'carol@example.com' },
      { id: 'U0ASKER', name: 'asker', email: 'asker@example.com' },
    ],
    usergroups: [{ id: 'S0ONCALL', handle: 'oncall', users: ['U0ALICE'] }],
  });
  opsgenie = await startOpsgenieStandIn({
    onCall: {
      ops: ['alice@example.com', 'bob@example.com', 'dave@example.com'],
      empty: [],
      platform: ['carol@example.com', 'bob@example.com'],
      flaky: ['alice@example.com'],
      crash: ['bob@example.com'],
    },
  });
  ({ kafka, producer, collector } = await kafkaSide('slack-sink-oncall-int', seen, silent));
  sink = await startSlackSink({
    ...baseSinkConfig(TOKEN, slack.url, silent),
    retryPolicy: FAST_RETRIES,
    lookupRetry: FAST_LOOKUPS,
    onCallLookupAttempts: ONCALL_LOOKUP_ATTEMPTS,
    opsgenieApiKey: OPSGENIE_STAND_IN_KEY,
    opsgenieApiUrl: opsgenie.url,
    onCallCacheTtlSeconds: 300,
    // A long interval: the job runs once at start, the test drives the later runs.
    onCallUserGroup: { usergroup: 'S0ONCALL', schedule: 'platform', intervalMinutes: 60 },
  });
  pool = createPool(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await sink?.close();
  await collector?.disconnect();
  await producer?.disconnect();
  await pool?.end();
  await slack?.close();
  await opsgenie?.close();
  await dropTestDatabase();
});

describe('ReplyWithOnCall', () => {
  let firstThread: ReturnType<typeof askInOps>;

  it('posts the acknowledgement, then one reply mentioning exactly the on-call users of the schedule', async () => {
    firstThread = askInOps();
    const c = replyWithOnCall(firstThread);
    await producer.send([c]);
    const event = await delivered(c);

    const replies = threadReplies(firstThread.threadTs);
    expect(replies.map((m) => m.text)).toEqual([
      'Looking for the on-call…',
      'On call for *ops*: <@U0ALICE> <@U0BOB>\n(Also on call, without a Slack account for their email: dave@example.com.)',
    ]);
    const [ack, answer] = replies;
    expect(ack!.metadata).toEqual({ event_type: 'alertbus_command', event_payload: { command_id: c.id, step: 'ack' } });
    expect(answer!.metadata?.event_payload).toEqual({ command_id: c.id, step: 'answer' });
    expect(BigInt(answer!.ts.replace('.', '')) > BigInt(ack!.ts.replace('.', ''))).toBe(true);

    expect(event).toMatchObject({ type: 'OnCallReplyPosted', alias: firstThread.alias, causationId: c.id });
    expect(data(event)).toEqual({
      commandId: c.id,
      commandType: 'ReplyWithOnCall',
      dryRun: false,
      attempts: 1,
      channel: 'C0OPS',
      ts: answer!.ts,
      threadTs: firstThread.threadTs,
      acknowledgementTs: ack!.ts,
      schedule: 'ops',
      outcome: 'mentioned',
      emails: ['alice@example.com', 'bob@example.com', 'dave@example.com'],
      slackUserIds: ['U0ALICE', 'U0BOB'],
      unmatchedEmails: ['dave@example.com'],
      cached: false,
    });
    expect(onCallLookups('ops')).toHaveLength(1);
    expect(onCallLookups('ops')[0]!.url).toBe('/v2/schedules/ops/on-calls?scheduleIdentifierType=name&flat=true');
  });

  it('answers the next request for the schedule from the cache: no second Opsgenie call', async () => {
    const thread = askInOps('<@U0ALERTBUS> help again');
    const lookupsByEmail = slack.state.calls.filter((x) => x.method === 'users.lookupByEmail').length;
    const c = replyWithOnCall(thread);
    await producer.send([c]);
    const event = await delivered(c);
    expect(data(event)).toMatchObject({ outcome: 'mentioned', cached: true, slackUserIds: ['U0ALICE', 'U0BOB'] });
    expect(threadReplies(thread.threadTs).map((m) => m.text)[1]).toMatch(/^On call for \*ops\*: <@U0ALICE> <@U0BOB>/);
    expect(onCallLookups('ops')).toHaveLength(1);
    expect(slack.state.calls.filter((x) => x.method === 'users.lookupByEmail')).toHaveLength(lookupsByEmail);
  });

  it('ClearOnCallCache empties the cache and says so in the thread; the next request asks Opsgenie again', async () => {
    const thread = askInOps('<@U0ALERTBUS> cache clear');
    const clear = command('ClearOnCallCache', thread.alias, { rule: RULE, channel: thread.channel, threadTs: thread.threadTs, requestedBy: 'U0ASKER' });
    await producer.send([clear]);
    const cleared = await delivered(clear);
    expect(cleared.type).toBe('OnCallCacheCleared');
    expect(data(cleared).cleared).toContain('ops');
    const confirmation = threadReplies(thread.threadTs);
    expect(confirmation).toHaveLength(1);
    expect(confirmation[0]!.text).toMatch(/^The on-call cache is cleared \(\d schedules?\), as <@U0ASKER> asked/);
    expect(data(cleared)).toMatchObject({ channel: 'C0OPS', ts: confirmation[0]!.ts, threadTs: thread.threadTs });
    const { rows } = await pool.query('SELECT schedule FROM oncall_cache');
    expect(rows).toEqual([]);

    const again = replyWithOnCall(askInOps('<@U0ALERTBUS> and now?'));
    await producer.send([again]);
    expect(data(await delivered(again))).toMatchObject({ outcome: 'mentioned', cached: false });
    expect(onCallLookups('ops')).toHaveLength(2);
  });

  it('says so when nobody is on call, and when the schedule does not exist (no retries for a 404)', async () => {
    const nobody = askInOps();
    const unknown = askInOps();
    const a = replyWithOnCall(nobody, 'empty');
    const b = replyWithOnCall(unknown, 'no-such-schedule');
    await producer.send([a, b]);
    expect(data(await delivered(a))).toMatchObject({ outcome: 'nobody-on-call', emails: [], slackUserIds: [] });
    expect(threadReplies(nobody.threadTs).map((m) => m.text)).toEqual(['Looking for the on-call…', 'Nobody is on call for *empty* right now.']);

    const failed = await delivered(b);
    expect(failed.type).toBe('OnCallReplyPosted');
    expect(data(failed)).toMatchObject({ outcome: 'lookup-failed', attempts: 1, error: expect.stringContaining('HTTP 404') });
    expect(threadReplies(unknown.threadTs).map((m) => m.text)).toEqual([
      'Looking for the on-call…',
      'I could not find out who is on call for *no-such-schedule*: Opsgenie who-is-on-call: HTTP 404 Schedule with identifier [no-such-schedule] does not exist.',
    ]);
    expect(onCallLookups('no-such-schedule')).toHaveLength(1);
  });

  it('retries a failing Opsgenie without posting the acknowledgement twice', async () => {
    opsgenie.state.failNext('onCalls', { status: 503 }, 2);
    const thread = askInOps();
    const c = replyWithOnCall(thread, 'flaky');
    await producer.send([c]);
    const event = await delivered(c);
    expect(data(event)).toMatchObject({ outcome: 'mentioned', slackUserIds: ['U0ALICE'], attempts: 3 });
    expect(threadReplies(thread.threadTs).map((m) => m.text)).toEqual(['Looking for the on-call…', 'On call for *flaky*: <@U0ALICE>']);
    expect(onCallLookups('flaky').map((x) => x.status)).toEqual([503, 503, 200]);
  });

  it('answers in the thread when Opsgenie keeps failing through the last attempt', async () => {
    opsgenie.state.failNext('onCalls', { status: 500 }, ONCALL_LOOKUP_ATTEMPTS);
    const thread = askInOps();
    const c = replyWithOnCall(thread, 'flaky');
    // The cache would answer: clear it first, as "cache clear" would.
    await pool.query('DELETE FROM oncall_cache');
    await producer.send([c]);
    const event = await delivered(c);
    expect(data(event)).toMatchObject({ outcome: 'lookup-failed', error: expect.stringContaining('HTTP 500'), attempts: ONCALL_LOOKUP_ATTEMPTS });
    const texts = threadReplies(thread.threadTs).map((m) => m.text);
    expect(texts).toHaveLength(2);
    expect(texts[1]).toMatch(/^I could not find out who is on call for \*flaky\*: Opsgenie who-is-on-call: HTTP 500/);
  });

  it('while Opsgenie is down, answers with who was on call when last looked up, saying so; a refusal (403) is not answered that way', async () => {
    // Found once, then older than the cache's TTL.
    const first = replyWithOnCall(askInOps(), 'flaky');
    await producer.send([first]);
    expect(data(await delivered(first))).toMatchObject({ outcome: 'mentioned', slackUserIds: ['U0ALICE'] });
    const knownAt = new Date(Date.now() - 3 * 3_600_000);
    knownAt.setUTCSeconds(0, 0);
    await pool.query(`UPDATE oncall_cache SET fetched_at = $1 WHERE schedule = 'flaky'`, [knownAt]);

    const thread = askInOps();
    const c = replyWithOnCall(thread, 'flaky');
    opsgenie.state.failFor('onCalls', { status: 503 }, 60_000);
    try {
      await producer.send([c]);
      const event = await delivered(c);
      const stamp = knownAt.toISOString().slice(0, 16).replace('T', ' ');
      expect(threadReplies(thread.threadTs).map((m) => m.text)).toEqual([
        'Looking for the on-call…',
        `I could not find out who is on call for *flaky* now (Opsgenie who-is-on-call: HTTP 503 Service Unavailable). Last known on call (as of ${stamp} UTC): <@U0ALICE>`,
      ]);
      expect(data(event)).toMatchObject({
        outcome: 'last-known',
        slackUserIds: ['U0ALICE'],
        emails: ['alice@example.com'],
        cached: true,
        knownAt: knownAt.toISOString(),
        error: 'Opsgenie who-is-on-call: HTTP 503 Service Unavailable',
        attempts: ONCALL_LOOKUP_ATTEMPTS,
      });
    } finally {
      opsgenie.state.clearFaults();
    }

    // Opsgenie refuses (the key lost its rights): the schedule may be gone, so no old answer stands in for it.
    const refused = replyWithOnCall(askInOps(), 'flaky');
    opsgenie.state.failNext('onCalls', { status: 403 }, 1);
    await producer.send([refused]);
    expect(data(await delivered(refused))).toMatchObject({ outcome: 'lookup-failed', slackUserIds: [], attempts: 1, error: expect.stringContaining('HTTP 403') });
  });

  it('after a crash, posts neither message twice: the acknowledgement found in the thread, then only the answer', async () => {
    const thread = askInOps();
    const c = replyWithOnCall(thread, 'crash');
    const ledger = new CommandLedger(pool, SLACK_SINK);
    // The earlier run: the acknowledgement reached Slack, then the process died before recording it.
    const ack = slack.state.addMessage({
      channel: 'C0OPS',
      thread_ts: thread.threadTs,
      text: 'Looking for the on-call…',
      user: 'U0ALERTBUS',
      bot_id: 'B0ALERTBUS',
      metadata: { event_type: 'alertbus_command', event_payload: { command_id: c.id, step: 'ack' } },
    });
    await ledger.markStarted(c);
    await producer.send([c]);
    const event = await delivered(c);
    expect(data(event)).toMatchObject({ acknowledgementTs: ack.ts, outcome: 'mentioned', slackUserIds: ['U0BOB'] });
    expect(threadReplies(thread.threadTs).map((m) => m.text)).toEqual(['Looking for the on-call…', 'On call for *crash*: <@U0BOB>']);
  });

  it('after a crash between posting the answer and recording it, posts nothing more', async () => {
    const thread = askInOps();
    const c = replyWithOnCall(thread, 'crash');
    const ledger = new CommandLedger(pool, SLACK_SINK);
    const meta = (step: string) => ({ event_type: 'alertbus_command', event_payload: { command_id: c.id, step } });
    const ack = slack.state.addMessage({ channel: 'C0OPS', thread_ts: thread.threadTs, text: 'Looking for the on-call…', user: 'U0ALERTBUS', metadata: meta('ack') });
    const answer = slack.state.addMessage({ channel: 'C0OPS', thread_ts: thread.threadTs, text: 'On call for *crash*: <@U0BOB>', user: 'U0ALERTBUS', metadata: meta('answer') });
    await ledger.markStarted(c);
    await pool.query(`INSERT INTO slack_command_steps (command_id, step, data) VALUES ($1, 'ack', $2), ($1, 'resolved', $3)`, [
      c.id,
      JSON.stringify({ channel: 'C0OPS', ts: ack.ts }),
      JSON.stringify({ schedule: 'crash', outcome: 'mentioned', emails: ['bob@example.com'], slackUserIds: ['U0BOB'], unmatchedEmails: [], cached: false }),
    ]);
    const posts = slack.state.calls.filter((x) => x.method === 'chat.postMessage').length;
    await producer.send([c]);
    const event = await delivered(c);
    expect(data(event)).toMatchObject({ ts: answer.ts, acknowledgementTs: ack.ts, outcome: 'mentioned', slackUserIds: ['U0BOB'], emails: ['bob@example.com'] });
    expect(slack.state.calls.filter((x) => x.method === 'chat.postMessage')).toHaveLength(posts);
    expect(threadReplies(thread.threadTs)).toHaveLength(2);
  });
});

describe('PostSlackReply', () => {
  it('posts a reply in the given thread, not tied to an incident', async () => {
    const thread = askInOps('<@U0ALERTBUS> help');
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Commands*: help, oncall, cache clear' } }];
    const c = command('PostSlackReply', thread.alias, { rule: RULE, channel: thread.channel, threadTs: thread.threadTs, text: 'Commands: help, oncall, cache clear', blocks });
    await producer.send([c]);
    const event = await delivered(c);
    const [reply, ...more] = threadReplies(thread.threadTs);
    expect(more).toHaveLength(0);
    expect(reply).toMatchObject({ text: 'Commands: help, oncall, cache clear', blocks });
    expect(event.type).toBe('SlackReplyPosted');
    expect(data(event)).toEqual({ commandId: c.id, commandType: 'PostSlackReply', dryRun: false, attempts: 1, channel: 'C0OPS', ts: reply!.ts, threadTs: thread.threadTs });
  });

  it('posts once when Slack took the reply but its answer was lost, and the thread look-up went unanswered at first', async () => {
    const thread = askInOps('<@U0ALERTBUS> help');
    const c = command('PostSlackReply', thread.alias, { rule: RULE, channel: thread.channel, threadTs: thread.threadTs, text: 'Commands: help' });
    slack.state.failNext('chat.postMessage', { loseAnswer: true });
    // Two whole look-ups (each with its retries: FAST_LOOKUPS) unanswered: 503s, then 429s with a Retry-After.
    slack.state.failNext('conversations.replies', { status: 503 }, 4);
    slack.state.failNext('conversations.replies', { status: 429, retryAfter: 0 }, 4);
    await producer.send([c]);
    const event = await delivered(c);
    const replies = threadReplies(thread.threadTs);
    expect(replies.map((m) => m.text)).toEqual(['Commands: help']);
    expect(event.type).toBe('SlackReplyPosted');
    expect(data(event)).toMatchObject({ ts: replies[0]!.ts, threadTs: thread.threadTs });
    expect(slack.state.calls.filter((x) => x.method === 'conversations.replies' && x.args.ts === thread.threadTs).length).toBeGreaterThan(8);
  });

  it('posts the acknowledgement once when its answer was lost and the thread look-up went unanswered at first', async () => {
    const thread = askInOps();
    const c = replyWithOnCall(thread, 'crash');
    slack.state.failNext('chat.postMessage', { loseAnswer: true });
    slack.state.failNext('conversations.replies', { status: 500 }, 8);
    await producer.send([c]);
    const event = await delivered(c);
    expect(threadReplies(thread.threadTs).map((m) => m.text)).toEqual(['Looking for the on-call…', 'On call for *crash*: <@U0BOB>']);
    expect(data(event)).toMatchObject({ acknowledgementTs: threadReplies(thread.threadTs)[0]!.ts, outcome: 'mentioned' });
  });

  it('a thread that does not exist is a permanent failure', async () => {
    const c = command('PostSlackReply', 'slack:T0ALERTBUS:C0OPS:1.000001', { rule: RULE, channel: 'C0OPS', threadTs: '1.000001', text: 'into the void' });
    await producer.send([c]);
    const failed = await delivered(c);
    expect(failed.type).toBe('DeliveryFailed');
    expect(data(failed)).toMatchObject({ target: 'slack', permanent: true, error: expect.stringContaining('thread_not_found') });
  });
});

describe('on-call user group job', () => {
  const members = () => [...slack.state.usergroups.find((g) => g.id === 'S0ONCALL')!.users].sort();
  const updates = () => slack.state.calls.filter((x) => x.method === 'usergroups.users.update');

  it('sets exactly the on-call members at start, and skips the call when nothing changed', async () => {
    await waitFor(() => members().join() === 'U0BOB,U0CAROL', { what: 'the user group to hold the platform on-call' });
    expect(updates()).toHaveLength(1);
    expect(updates()[0]!.args).toMatchObject({ usergroup: 'S0ONCALL' });
    const event = await waitFor(() => seen.find((e) => e.type === 'SlackUserGroupUpdated'));
    expect(event).toMatchObject({ alias: 'slack-usergroup:S0ONCALL', source: 'slack-sink' });
    expect(data(event)).toEqual({
      usergroup: 'S0ONCALL',
      schedule: 'platform',
      users: ['U0BOB', 'U0CAROL'],
      previousUsers: ['U0ALICE'],
      emails: ['carol@example.com', 'bob@example.com'],
      unmatchedEmails: [],
    });

    expect(await sink.syncOnCallUserGroup!()).toMatchObject({ outcome: 'unchanged', users: ['U0BOB', 'U0CAROL'] });
    expect(updates()).toHaveLength(1);
  });

  it('follows the schedule when the on-call changes, always with the whole list', async () => {
    opsgenie.state.setOnCall('platform', ['alice@example.com']);
    expect(await sink.syncOnCallUserGroup!()).toMatchObject({ outcome: 'updated', users: ['U0ALICE'], previousUsers: ['U0BOB', 'U0CAROL'] });
    expect(members()).toEqual(['U0ALICE']);
    expect(updates().at(-1)!.args.users).toBe('U0ALICE');
  });

  it('leaves the group alone when nobody is on call (Slack cannot empty a group that way)', async () => {
    opsgenie.state.setOnCall('platform', []);
    const before = updates().length;
    expect(await sink.syncOnCallUserGroup!()).toMatchObject({ outcome: 'skipped-empty' });
    expect(updates()).toHaveLength(before);
    expect(members()).toEqual(['U0ALICE']);
  });
});
