/**
 * Reconciling a root post whose earlier attempt may have reached Slack (a crash, or a call that got no answer): a
 * look-up Slack does not answer leaves it unknown, so it throws (the runner looks again later) instead of saying
 * "not there", which would post a second root; so does "not there" while Slack may still be making the post, and a
 * look-up that runs out of pages. The Slack stand-in over HTTP, through the sink's own client.
 */
import pino from 'pino';
import { DeliveryError, type RetryPolicy } from '@alertbus/common';
import { makeEnvelope, newId, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { SettleWindow } from '@alertbus/sink-runtime';
import { SLACK_STAND_IN_TOKEN, startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { slackRootCommand } from '../../../test/support/commands';
import { waitFor } from '../../../test/support/wait';
import { LookUpUnfinished, SlackClient } from './client';
import { lookUpOrThrow, UNFINISHED_LOOKUP_GIVE_UP_MS } from './reconcile';
import { NotificationPoster } from './notifications';
import { SlackNotifier } from './notifier';
import type { CommandSteps } from './steps';
import { ThreadCommands } from './thread-commands';
import { COMMAND_EVENT_TYPE } from './wire';

const silent = pino({ level: 'silent' });
const NO_RETRIES: RetryPolicy = { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1, maxRetryAfterMs: 0 };
let standIn: SlackStandIn;
let notifier: SlackNotifier;

/**
 * A notifier over the sink's own client, against the stand-in, with no look-up retries of its own and, unless told,
 * no settle window (a post not found is taken as never made).
 */
function notifierOf(slack: SlackStandIn, opts: { timeoutMs?: number; settle?: SettleWindow; lookupRetry?: RetryPolicy } = {}): SlackNotifier {
  const client = new SlackClient({ token: SLACK_STAND_IN_TOKEN, apiUrl: slack.url, timeoutMs: opts.timeoutMs ?? 5_000, log: silent });
  return new SlackNotifier({
    clients: { forTeam: async () => ({ client, cacheTeam: 'T' }) },
    threads: {} as never,
    log: silent,
    lookupRetry: opts.lookupRetry ?? NO_RETRIES,
    settle: opts.settle ?? { settleMs: 0 },
    threadCommands: {} as never,
    notifications: {} as never,
    slashAnswers: {} as never,
  });
}

beforeEach(async () => {
  standIn = await startSlackStandIn({ channels: [{ id: 'C0ALERTS', name: 'alerts' }] });
  notifier = notifierOf(standIn);
});
afterEach(() => standIn.close());

const reconciled = (cmd: AnyEnvelope) =>
  notifier.reconcile(cmd, new Date()).then(
    (v) => v,
    (e: unknown) => e,
  );

test('a root post that reached Slack is found: no second post', async () => {
  const cmd = slackRootCommand('alertmanager:reconcile-found', 'disk full');
  const posted = await notifier.execute(cmd);
  expect(await reconciled(cmd)).toEqual({ type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: posted.data.ts, purpose: 'root' } });
});

test('a look-up Slack answers 503 throws a retryable error instead of answering "not there"', async () => {
  const cmd = slackRootCommand('alertmanager:reconcile-unanswered', 'disk full');
  await notifier.execute(cmd);
  standIn.state.failFor('conversations.history', { status: 503 }, 60_000);
  const err = await reconciled(cmd);
  expect(err).toBeInstanceOf(DeliveryError);
  expect((err as DeliveryError).permanent).toBe(false);
  standIn.state.clearFaults();
  expect((await reconciled(cmd)) as { type: string }).toMatchObject({ type: 'SlackMessagePosted' });
  expect(standIn.state.messages).toHaveLength(1);
});

test('a look-up Slack answers ok:false rate_limited throws a retryable error instead of answering "not there"', async () => {
  const cmd = slackRootCommand('alertmanager:reconcile-rate-limited', 'disk full');
  await notifier.execute(cmd);
  standIn.state.failFor('conversations.history', { ok: false, error: 'rate_limited' }, 60_000);
  const err = await reconciled(cmd);
  expect(err).toBeInstanceOf(DeliveryError);
  expect(err).toMatchObject({ permanent: false, message: expect.stringMatching(/rate_limited/) });
  standIn.state.clearFaults();
  expect((await reconciled(cmd)) as { type: string }).toMatchObject({ type: 'SlackMessagePosted' });
  expect(standIn.state.messages).toHaveLength(1);
});

describe('an app installed from outside the Slack Marketplace (15 messages a read page, one read a minute)', () => {
  test('the root post is found in one read though the channel was busy after it: the look-up reads no newer message than the run could have posted', async () => {
    let clock = Date.parse('2026-12-01T10:00:00Z');
    await standIn.close();
    standIn = await startSlackStandIn({
      channels: [{ id: 'C0ALERTS', name: 'alerts' }],
      now: () => clock,
      readPageMax: 15,
      rateLimits: { 'conversations.history': { perMinute: 1 } },
    });
    notifier = notifierOf(standIn);
    const cmd = slackRootCommand('alertmanager:reconcile-busy', 'disk full');
    const startedAt = new Date(clock);
    const posted = await notifier.execute(cmd);
    // Ten minutes on (the sink was down), forty other incidents were posted in the channel.
    clock += 10 * 60_000;
    for (let i = 0; i < 40; i++) {
      await notifier.execute(slackRootCommand(`alertmanager:reconcile-busy-${i}`, `other ${i}`));
      clock += 1_000;
    }
    const found = await notifier.reconcile(cmd, startedAt).then(
      (v) => v,
      (e: unknown) => e,
    );
    expect(found).toEqual({ type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: posted.data.ts, purpose: 'root' } });
    expect(standIn.state.calls.filter((c) => c.method === 'conversations.history')).toHaveLength(1);
  });
});

describe('a post Slack makes after the sink stopped waiting for its answer', () => {
  test('the root post is not there yet when the runner looks: the look-up cannot tell yet, and finds it once Slack made it', async () => {
    // The client gives up after 300 ms; Slack posts the message at 900 ms.
    notifier = notifierOf(standIn, { timeoutMs: 300, settle: { settleMs: 300 + 5_000 } });
    const cmd = slackRootCommand('alertmanager:reconcile-slow-post', 'disk full');
    standIn.state.failNext('chat.postMessage', { slowMs: 900 });
    const startedAt = new Date();
    await expect(notifier.execute(cmd)).rejects.toMatchObject({ permanent: false, httpStatus: undefined, message: expect.stringMatching(/timeout/) });
    expect(standIn.state.messages).toHaveLength(0);
    // The runner's shortest back-off later: not found is not "never posted".
    const early = await notifier.reconcile(cmd, startedAt).catch((e: unknown) => e);
    expect(early).toMatchObject({ name: 'DeliveryError', permanent: false, retryAfterMs: 1_000, message: expect.stringMatching(/may still be pending/) });
    await waitFor(() => standIn.state.messages.length === 1, { what: 'the slow post made' });
    const posted = standIn.state.messages[0]!;
    expect(await notifier.reconcile(cmd, startedAt)).toEqual({ type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: posted.ts, purpose: 'root' } });
    expect(standIn.state.messages).toHaveLength(1);
  });

  test('a root post never made is posted again once the request timeout and SLACK_POST_SETTLE_MS have passed, not before', async () => {
    let clock = Date.now();
    notifier = notifierOf(standIn, { settle: { settleMs: 10_000 + 10_000, now: () => clock } });
    const cmd = slackRootCommand('alertmanager:reconcile-never-posted', 'disk full');
    const startedAt = new Date(clock - 10_500); // the attempt timed out half a second ago
    await expect(notifier.reconcile(cmd, startedAt)).rejects.toMatchObject({ permanent: false, retryAfterMs: 1_000 });
    clock += 9_200;
    await expect(notifier.reconcile(cmd, startedAt)).rejects.toMatchObject({ retryAfterMs: 300 });
    clock += 300;
    expect(await notifier.reconcile(cmd, startedAt)).toBeUndefined();
  });

  test('a look-up Slack refuses for good still posts again at once: waiting would not tell more', async () => {
    notifier = notifierOf(standIn, { settle: { settleMs: 10_000 + 10_000 } });
    const cmd = slackRootCommand('alertmanager:reconcile-refused-settling', 'disk full');
    standIn.state.failFor('conversations.history', { ok: false, error: 'missing_scope' }, 60_000);
    expect(await notifier.reconcile(cmd, new Date())).toBeUndefined();
  });

  test('a notification not there yet waits too', async () => {
    let clock = Date.now();
    const client = new SlackClient({ token: SLACK_STAND_IN_TOKEN, apiUrl: standIn.url, timeoutMs: 5_000, log: silent });
    const poster = new NotificationPoster({ client, log: silent, lookupRetry: NO_RETRIES, settle: { settleMs: 10_000 + 10_000, now: () => clock } });
    const at = new Date(clock).toISOString();
    const cmd = makeEnvelope({
      id: newId(),
      type: 'PostNotification',
      alias: 'notification:n1',
      occurredAt: at,
      recordedAt: at,
      source: 'router',
      data: { notificationId: newId(), rule: { path: 'default', rulesVersion: 'test' }, channel: '#alerts', text: 'deploy done' },
    } as never) as Envelope<'PostNotification'>;
    const startedAt = new Date(clock);
    await expect(poster.reconcile(cmd, startedAt)).rejects.toMatchObject({ permanent: false, retryAfterMs: 1_000 });
    clock += 20_000;
    expect(await poster.reconcile(cmd, startedAt)).toBeUndefined();
  });
});

describe('a thread command whose earlier attempt got no answer', () => {
  let clock: number;
  let saved: Map<string, Map<string, Record<string, unknown>>>;
  let commands: ThreadCommands;
  let threadTs: string;

  beforeEach(() => {
    clock = Date.now();
    saved = new Map();
    const steps = {
      load: async (id: string) => new Map(saved.get(id) ?? []),
      save: async (id: string, step: string, data: Record<string, unknown>) => void saved.set(id, (saved.get(id) ?? new Map()).set(step, data)),
    } as unknown as CommandSteps;
    const client = new SlackClient({ token: SLACK_STAND_IN_TOKEN, apiUrl: standIn.url, timeoutMs: 5_000, log: silent });
    commands = new ThreadCommands({
      clients: { forTeam: async () => ({ client, cacheTeam: 'T' }) },
      cache: {} as never,
      steps,
      log: silent,
      lookupRetry: NO_RETRIES,
      settle: { settleMs: 10_000 + 10_000, now: () => clock },
    });
    threadTs = standIn.state.addMessage({ channel: 'C0ALERTS', text: '/alertbus help' }).ts;
  });

  const threadCommand = <T extends 'PostSlackReply' | 'ReplyWithOnCall'>(type: T, data: Record<string, unknown>): Envelope<T> => {
    const at = new Date(clock).toISOString();
    const rule = { path: 'default', rulesVersion: 'test' };
    return makeEnvelope({ id: newId(), type, alias: 'slack:T:C0ALERTS:1', occurredAt: at, recordedAt: at, source: 'router', data: { rule, channel: 'C0ALERTS', threadTs, ...data } } as never) as Envelope<T>;
  };

  test('a reply not there yet waits, and is posted again only once the window is over', async () => {
    const cmd = threadCommand('PostSlackReply', { text: 'help text' });
    const startedAt = new Date(clock);
    await expect(commands.reconcile(cmd, startedAt)).rejects.toMatchObject({ permanent: false, retryAfterMs: 1_000, message: expect.stringMatching(/no reply message/) });
    clock += 20_000;
    expect(await commands.reconcile(cmd, startedAt)).toBeUndefined();
  });

  test('only the step the attempt was posting waits: an on-call answer after a lookup that got no answer goes out at once', async () => {
    const cmd = threadCommand('ReplyWithOnCall', { schedule: 'ops', acknowledgement: 'Looking…' });
    saved.set(cmd.id, new Map([['ack', { channel: 'C0ALERTS', ts: '1.000002' }]])); // the ack was posted; the lookup failed
    expect(await commands.reconcile(cmd, new Date(clock))).toBeUndefined();
  });
});

describe('a look-up that runs out of pages (15 messages a page for an app outside the Slack Marketplace)', () => {
  beforeEach(async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ channels: [{ id: 'C0ALERTS', name: 'alerts' }], readPageMax: 15 });
  });

  test('a root post behind 150 newer messages of its window cannot be told: it is looked for again later, not posted twice', async () => {
    // Look-up retries allowed: the same pages are not read again at once.
    notifier = notifierOf(standIn, { lookupRetry: { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 1, maxRetryAfterMs: 60_000 } });
    const cmd = slackRootCommand('alertmanager:reconcile-busy-window', 'disk full');
    const startedAt = new Date();
    await notifier.execute(cmd);
    for (let i = 0; i < 150; i++) standIn.state.addMessage({ channel: 'C0ALERTS', text: `chatter ${i}` });
    const err = await notifier.reconcile(cmd, startedAt).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'LookUpUnfinished', permanent: false, retryAfterMs: 60_000, message: expect.stringMatching(/cannot tell whether it was posted/) });
    expect(standIn.state.calls.filter((c) => c.method === 'conversations.history')).toHaveLength(10);
    expect(standIn.state.messages.filter((m) => m.metadata?.event_payload.command_id === cmd.id)).toHaveLength(1);
  });

  test('past 15 minutes of not being able to tell, the command is executed: its partition is not held for ever', async () => {
    const now = Date.parse('2026-12-07T08:00:00Z');
    const unfinished = () => Promise.reject(new LookUpUnfinished('conversations.history', 'C0ALERTS'));
    const ctx = (minutesAgo: number) => ({ log: silent, commandId: 'c1', what: 'an earlier run', startedAt: new Date(now - minutesAgo * 60_000), now: () => now });
    await expect(lookUpOrThrow(unfinished, ctx(14))).rejects.toMatchObject({ name: 'LookUpUnfinished', retryAfterMs: 60_000 });
    // Before, it was looked for again every minute for as long as the window held more than its pages.
    expect(UNFINISHED_LOOKUP_GIVE_UP_MS).toBe(15 * 60_000);
    await expect(lookUpOrThrow(unfinished, ctx(16))).resolves.toBeUndefined();
  });

  test('a thread step behind 150 replies cannot be told either', async () => {
    const client = new SlackClient({ token: SLACK_STAND_IN_TOKEN, apiUrl: standIn.url, timeoutMs: 5_000, log: silent });
    const threadTs = standIn.state.addMessage({ channel: 'C0ALERTS', text: 'root' }).ts;
    const oldest = threadTs;
    for (let i = 0; i < 150; i++) standIn.state.addMessage({ channel: 'C0ALERTS', thread_ts: threadTs, text: `reply ${i}` });
    const commandId = newId();
    standIn.state.addMessage({
      channel: 'C0ALERTS',
      thread_ts: threadTs,
      text: 'help text',
      user: 'U0ALERTBUS',
      metadata: { event_type: COMMAND_EVENT_TYPE, event_payload: { command_id: commandId, step: 'reply' } },
    });
    await expect(client.findCommandMessages({ channel: 'C0ALERTS', threadTs, oldest, commandId })).rejects.toMatchObject({
      name: 'LookUpUnfinished',
      permanent: false,
      message: expect.stringMatching(/^conversations.replies of C0ALERTS: 10 pages read and more left/),
    });
  });
});

describe('a public channel the bot posts in without being a member (chat:write.public)', () => {
  // A bot token reads only the channels the bot is in: Slack answers conversations.history there not_in_channel.
  beforeEach(async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ channels: [{ id: 'C0ALERTS', name: 'alerts', withoutApp: true }] });
    notifier = notifierOf(standIn);
  });

  test('the root post that reached Slack is found after the bot joins the channel: no second post', async () => {
    const cmd = slackRootCommand('alertmanager:reconcile-not-member', 'disk full');
    const posted = await notifier.execute(cmd);
    expect(await reconciled(cmd)).toEqual({ type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: posted.data.ts, purpose: 'root' } });
    expect(standIn.state.calls.filter((c) => c.method === 'conversations.join').map((c) => c.args.channel)).toEqual(['C0ALERTS']);
    expect(standIn.state.messages).toHaveLength(1);
  });

  test('a join Slack does not answer leaves it unknown: a retryable error, nothing posted again', async () => {
    const cmd = slackRootCommand('alertmanager:reconcile-join-unanswered', 'disk full');
    await notifier.execute(cmd);
    standIn.state.failFor('conversations.join', { status: 503 }, 60_000);
    const err = await reconciled(cmd);
    expect(err).toMatchObject({ permanent: false, message: expect.stringMatching(/not a member \(not_in_channel\) and joining it failed: Slack answered HTTP 503/) });
    standIn.state.clearFaults();
    expect((await reconciled(cmd)) as { type: string }).toMatchObject({ type: 'SlackMessagePosted' });
    expect(standIn.state.messages).toHaveLength(1);
  });

  test('without channels:join (an older install) it cannot tell: the post is made again, as before', async () => {
    const cmd = slackRootCommand('alertmanager:reconcile-join-refused', 'disk full');
    await notifier.execute(cmd);
    standIn.state.failFor('conversations.join', { ok: false, error: 'missing_scope' }, 60_000);
    expect(await reconciled(cmd)).toBeUndefined();
  });
});
