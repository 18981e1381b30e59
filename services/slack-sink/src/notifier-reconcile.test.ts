/**
 * Reconciling a root post whose earlier attempt may have reached Slack (a crash, or a call that got no answer): a
 * look-up Slack does not answer leaves it unknown, so it throws (the runner looks again later) instead of saying
 * "not there", which would post a second root. The Slack stand-in over HTTP, through the sink's own client.
 */
import pino from 'pino';
import { DeliveryError } from '@alertbus/common';
import type { AnyEnvelope } from '@alertbus/schemas';
import { SLACK_STAND_IN_TOKEN, startSlackStandIn, type SlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { slackRootCommand } from '../../../test/support/commands';
import { SlackClient } from './client';
import { SlackNotifier } from './notifier';

const silent = pino({ level: 'silent' });
let standIn: SlackStandIn;
let notifier: SlackNotifier;

/** A notifier over the sink's own client, against the stand-in, with no look-up retries of its own. */
function notifierOf(slack: SlackStandIn): SlackNotifier {
  const client = new SlackClient({ token: SLACK_STAND_IN_TOKEN, apiUrl: slack.url, timeoutMs: 5_000, log: silent });
  return new SlackNotifier({
    clients: { forTeam: async () => ({ client, cacheTeam: 'T' }) },
    threads: {} as never,
    log: silent,
    lookupRetry: { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 1, maxRetryAfterMs: 0 },
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
