/** The stand-in speaks the Slack Web API as @slack/web-api sees it: real HTTP, form bodies, ok:false, 429s. */
import { ErrorCode, LogLevel, WebClient, type WebAPICallError } from '@slack/web-api';
import { responseUrl, SLACK_STAND_IN_TOKEN, startSlackStandIn, type SlackStandIn } from './server';

let standIn: SlackStandIn;
let slack: WebClient;

const client = (token: string | undefined, url = standIn.url) =>
  new WebClient(token, { slackApiUrl: url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, logLevel: LogLevel.ERROR });

/** The error a call fails with (the test fails if it succeeds). */
async function failure(call: Promise<unknown>): Promise<WebAPICallError> {
  try {
    await call;
  } catch (err) {
    return err as WebAPICallError;
  }
  throw new Error('expected the call to fail');
}

async function platformError(call: Promise<unknown>): Promise<string> {
  const err = await failure(call);
  if (err.code !== ErrorCode.PlatformError) throw new Error(`expected a platform error, got ${err.code}: ${err.message}`);
  return err.data.error;
}

const base = () => standIn.url.replace(/\/api\/$/, '');

beforeEach(async () => {
  standIn = await startSlackStandIn({
    channels: [
      { id: 'C0ALERTS', name: 'alerts' },
      { id: 'C0OPS', name: 'ops' },
      { id: 'G0PRIVATE', name: 'secret', isPrivate: true },
    ],
    users: [
      { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' },
      { id: 'U0BOB', name: 'bob', email: 'bob@example.com' },
      { id: 'U0GONE', name: 'gone', email: 'gone@example.com', deleted: true },
    ],
    usergroups: [{ id: 'S0ONCALL', handle: 'ops-oncall', users: [] }],
  });
  slack = client(SLACK_STAND_IN_TOKEN);
});

afterEach(() => standIn.close());

describe('authentication', () => {
  it('answers auth.test for a configured token', async () => {
    const res = await slack.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: 'U0ALERTBUS', bot_id: 'B0ALERTBUS' });
  });

  it('says not_authed without a token and invalid_auth for an unknown one, as HTTP 200 ok:false', async () => {
    expect(await platformError(client(undefined).auth.test())).toBe('not_authed');
    expect(await platformError(client('xoxb-wrong').chat.postMessage({ channel: 'C0ALERTS', text: 'x' }))).toBe(
      'invalid_auth',
    );
    expect(standIn.state.messages).toHaveLength(0);
    expect(standIn.state.calls.map((c) => [c.status, c.error])).toEqual([
      [200, 'not_authed'],
      [200, 'invalid_auth'],
    ]);
  });

  it('never keeps the token in the recorded calls', async () => {
    await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'hello' });
    const res = await fetch(`${base()}/_stand-in/calls`);
    expect(await res.text()).not.toContain(SLACK_STAND_IN_TOKEN);
  });
});

describe('chat.postMessage', () => {
  it('posts by channel ID or name and answers the channel ID with unique, increasing ts', async () => {
    const a = await slack.chat.postMessage({ channel: '#alerts', text: 'one' });
    const b = await slack.chat.postMessage({ channel: 'alerts', text: 'two' });
    const c = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'three' });
    for (const r of [a, b, c]) {
      expect(r.channel).toBe('C0ALERTS');
      expect(r.ts).toMatch(/^\d{10}\.\d{6}$/);
    }
    expect(Number(a.ts) < Number(b.ts) && Number(b.ts) < Number(c.ts)).toBe(true);
    expect(a.message?.text).toBe('one');
  });

  it('keeps blocks and metadata that arrive JSON-encoded in form fields', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Disk full*' } }];
    const metadata = { event_type: 'alertbus_command', event_payload: { command_id: 'cmd-1' } };
    const res = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'Disk full', blocks, metadata });
    const [stored] = standIn.state.messages;
    expect(stored).toMatchObject({ channel: 'C0ALERTS', ts: res.ts, text: 'Disk full', blocks, metadata, updates: 0 });
    expect(typeof standIn.state.calls[0]!.args.blocks).toBe('string'); // it was a form field
  });

  it('threads replies under a root message', async () => {
    const root = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'root' });
    const reply = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'reply', thread_ts: root.ts! });
    expect(reply.message?.thread_ts).toBe(root.ts);
    expect(await platformError(slack.chat.postMessage({ channel: 'C0ALERTS', text: 'x', thread_ts: '1.000001' }))).toBe(
      'thread_not_found',
    );
  });

  it('rejects unknown channels, missing text and malformed blocks', async () => {
    expect(await platformError(slack.chat.postMessage({ channel: '#nope', text: 'x' }))).toBe('channel_not_found');
    expect(await platformError(slack.chat.postMessage({ channel: 'C0ALERTS' } as never))).toBe('no_text');
    expect(await platformError(slack.apiCall('chat.postMessage', { channel: 'C0ALERTS', text: 'x', blocks: '{nope' }))).toBe(
      'invalid_blocks',
    );
    expect(
      await platformError(slack.apiCall('chat.postMessage', { channel: 'C0ALERTS', text: 'x', blocks: { type: 'section' } })),
    ).toBe('invalid_blocks');
    expect(standIn.state.messages).toHaveLength(0);
  });

  it('accepts JSON bodies too', async () => {
    const res = await fetch(`${standIn.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SLACK_STAND_IN_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0OPS', text: 'json', blocks: [{ type: 'divider' }] }),
    });
    const body = (await res.json()) as { ok: boolean; channel: string };
    expect(body).toMatchObject({ ok: true, channel: 'C0OPS' });
    expect(standIn.state.messages[0]!.blocks).toEqual([{ type: 'divider' }]);
  });
});

describe('chat.update', () => {
  it('updates a bot message in place, by channel ID only', async () => {
    const root = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'firing' });
    expect(await platformError(slack.chat.update({ channel: '#alerts', ts: root.ts!, text: 'x' }))).toBe('channel_not_found');
    const res = await slack.chat.update({ channel: 'C0ALERTS', ts: root.ts!, text: 'resolved' });
    expect(res).toMatchObject({ ok: true, channel: 'C0ALERTS', ts: root.ts, text: 'resolved' });
    expect(standIn.state.messages).toHaveLength(1);
    expect(standIn.state.messages[0]).toMatchObject({ text: 'resolved', updates: 1 });
  });

  it('keeps the blocks of an update without blocks, and removes them for an empty array, as chat.update documents', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*firing*' } }];
    const root = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'firing', blocks });
    await slack.chat.update({ channel: 'C0ALERTS', ts: root.ts!, text: 'firing (seen)' });
    expect(standIn.state.messages[0]).toMatchObject({ text: 'firing (seen)', blocks });
    await slack.chat.update({ channel: 'C0ALERTS', ts: root.ts!, text: 'plain now', blocks: [] });
    expect(standIn.state.messages[0]!.blocks).toBeUndefined();
  });

  it('refuses unknown messages and messages the bot did not post', async () => {
    expect(await platformError(slack.chat.update({ channel: 'C0ALERTS', ts: '1.000001', text: 'x' }))).toBe(
      'message_not_found',
    );
    const human = standIn.state.addMessage({ channel: 'C0ALERTS', text: 'written by a person' });
    expect(await platformError(slack.chat.update({ channel: 'C0ALERTS', ts: human.ts, text: 'x' }))).toBe(
      'cant_update_message',
    );
  });
});

describe('conversations', () => {
  it('lists channels with cursor pagination, private ones only when asked', async () => {
    const first = await slack.conversations.list({ limit: 1 });
    expect(first.channels?.map((c) => c.id)).toEqual(['C0ALERTS']);
    const cursor = first.response_metadata?.next_cursor;
    expect(cursor).toBeTruthy();
    const second = await slack.conversations.list({ limit: 1, cursor });
    expect(second.channels?.map((c) => [c.id, c.name])).toEqual([['C0OPS', 'ops']]);
    expect(second.response_metadata?.next_cursor).toBe('');
    const all = await slack.conversations.list({ types: 'public_channel,private_channel' });
    expect(all.channels?.map((c) => c.name)).toEqual(['alerts', 'ops', 'secret']);
  });

  it('returns history newest first, within oldest/latest, with metadata when asked', async () => {
    const metadata = (id: string) => ({ event_type: 'alertbus_command', event_payload: { command_id: id } });
    const a = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'a', metadata: metadata('a') });
    const b = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'b', metadata: metadata('b') });
    await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'in thread', thread_ts: a.ts! });
    await slack.chat.postMessage({ channel: 'C0OPS', text: 'elsewhere' });
    const c = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'c' });

    const all = await slack.conversations.history({ channel: 'C0ALERTS', include_all_metadata: true });
    expect(all.messages?.map((m) => m.text)).toEqual(['c', 'b', 'a']);
    expect(all.messages?.[1]?.metadata).toEqual(metadata('b'));
    expect(all.messages?.[2]).toMatchObject({ reply_count: 1, thread_ts: a.ts });

    const plain = await slack.conversations.history({ channel: 'C0ALERTS' });
    expect(plain.messages?.some((m) => m.metadata)).toBe(false);

    const window = await slack.conversations.history({ channel: 'C0ALERTS', oldest: a.ts, latest: c.ts });
    expect(window.messages?.map((m) => m.ts)).toEqual([b.ts]);

    const page1 = await slack.conversations.history({ channel: 'C0ALERTS', limit: 2 });
    expect(page1.has_more).toBe(true);
    const page2 = await slack.conversations.history({
      channel: 'C0ALERTS',
      limit: 2,
      cursor: page1.response_metadata?.next_cursor,
    });
    expect(page2.messages?.map((m) => m.text)).toEqual(['a']);

    expect(await platformError(slack.conversations.history({ channel: 'alerts' }))).toBe('channel_not_found');
  });

  it('returns a thread with conversations.replies, parent first', async () => {
    const root = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'root' });
    await slack.chat.postMessage({
      channel: 'C0ALERTS',
      text: 'r1',
      thread_ts: root.ts!,
      metadata: { event_type: 'alertbus_command', event_payload: { command_id: 'r1' } },
    });
    await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'r2', thread_ts: root.ts! });
    const res = await slack.conversations.replies({ channel: 'C0ALERTS', ts: root.ts!, include_all_metadata: true });
    expect(res.messages?.map((m) => m.text)).toEqual(['root', 'r1', 'r2']);
    expect(res.messages?.[1]?.metadata?.event_payload).toEqual({ command_id: 'r1' });
    expect(await platformError(slack.conversations.replies({ channel: 'C0ALERTS', ts: '1.000001' }))).toBe(
      'thread_not_found',
    );
  });
});

describe('threads among many messages', () => {
  it('keeps each thread\'s replies apart by channel and root, with its reply count and latest reply, and forgets them on reset', async () => {
    const a = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'root a' });
    const b = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'root b' });
    const c = await slack.chat.postMessage({ channel: 'C0OPS', text: 'root c' });
    for (let i = 0; i < 5; i++) {
      await slack.chat.postMessage({ channel: 'C0ALERTS', text: `a${i}`, thread_ts: a.ts! });
      await slack.chat.postMessage({ channel: 'C0ALERTS', text: `b${i}`, thread_ts: b.ts! });
    }
    const last = await slack.chat.postMessage({ channel: 'C0OPS', text: 'c0', thread_ts: c.ts! });
    const repliesOf = async (channel: string, ts: string) => (await slack.conversations.replies({ channel, ts })).messages?.map((m) => m.text);
    expect(await repliesOf('C0ALERTS', a.ts!)).toEqual(['root a', 'a0', 'a1', 'a2', 'a3', 'a4']);
    expect(await repliesOf('C0ALERTS', b.ts!)).toEqual(['root b', 'b0', 'b1', 'b2', 'b3', 'b4']);
    expect(await repliesOf('C0OPS', c.ts!)).toEqual(['root c', 'c0']);
    // A ts of one channel names no thread in another.
    expect(await platformError(slack.conversations.replies({ channel: 'C0OPS', ts: a.ts! }))).toBe('thread_not_found');
    const roots = (await slack.conversations.history({ channel: 'C0ALERTS' })).messages ?? [];
    expect(roots.map((m) => [m.text, m.reply_count])).toEqual([
      ['root b', 5],
      ['root a', 5],
    ]);
    const ops = await slack.conversations.history({ channel: 'C0OPS' });
    expect(ops.messages?.[0]).toMatchObject({ text: 'root c', reply_count: 1, latest_reply: last.ts });

    standIn.state.reset();
    expect(await platformError(slack.chat.postMessage({ channel: 'C0ALERTS', text: 'late', thread_ts: a.ts! }))).toBe('thread_not_found');
    const fresh = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'new root' });
    expect(fresh.message).not.toHaveProperty('reply_count');
  });
});

describe('users and user groups', () => {
  it('looks users up by email', async () => {
    const res = await slack.users.lookupByEmail({ email: 'Alice@example.com' });
    expect(res.user?.id).toBe('U0ALICE');
    expect(await platformError(slack.users.lookupByEmail({ email: 'nobody@example.com' }))).toBe('users_not_found');
    expect(await platformError(slack.users.lookupByEmail({ email: 'gone@example.com' }))).toBe('users_not_found');
  });

  it('lists a user group\'s members, and refuses to empty a group with usergroups.users.update', async () => {
    expect((await slack.usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual([]);
    await slack.usergroups.users.update({ usergroup: 'S0ONCALL', users: 'U0BOB,U0ALICE' });
    expect((await slack.usergroups.users.list({ usergroup: 'S0ONCALL' })).users).toEqual(['U0BOB', 'U0ALICE']);
    expect(await platformError(slack.usergroups.users.update({ usergroup: 'S0ONCALL', users: '' }))).toBe('no_users_provided');
    expect(await platformError(slack.usergroups.users.list({ usergroup: 'S0NOPE' }))).toBe('no_such_subteam');
    expect(standIn.state.usergroups[0]!.users).toEqual(['U0BOB', 'U0ALICE']);
  });

  it('lists the user groups, with their members only when include_users is asked for', async () => {
    await slack.usergroups.users.update({ usergroup: 'S0ONCALL', users: 'U0BOB' });
    const bare = await slack.usergroups.list({});
    expect(bare.usergroups?.map((g) => [g.id, g.handle, g.users])).toEqual([['S0ONCALL', 'ops-oncall', undefined]]);
    const full = await slack.usergroups.list({ include_users: true });
    expect(full.usergroups?.[0]?.users).toEqual(['U0BOB']);
  });

  it('shows an ephemeral answer to one person, kept apart from the channel\'s messages', async () => {
    const root = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'root' });
    const res = await slack.chat.postEphemeral({ channel: 'C0ALERTS', user: 'U0BOB', text: 'only you', thread_ts: root.ts! });
    expect(res.message_ts).toMatch(/^\d+\.\d+$/);
    expect(standIn.state.ephemerals).toEqual([expect.objectContaining({ channel: 'C0ALERTS', user: 'U0BOB', text: 'only you', thread_ts: root.ts })]);
    expect(standIn.state.messages.map((m) => m.text)).toEqual(['root']);
    expect(await platformError(slack.chat.postEphemeral({ channel: 'C0ALERTS', user: 'U0GHOST', text: 'x' }))).toBe('user_not_in_channel');
    expect(await platformError(slack.chat.postEphemeral({ channel: 'C0NOPE', user: 'U0BOB', text: 'x' }))).toBe('channel_not_found');
  });

  it('replaces a user group membership', async () => {
    const res = await slack.usergroups.users.update({ usergroup: 'S0ONCALL', users: 'U0ALICE,U0BOB' });
    expect(res.usergroup?.users).toEqual(['U0ALICE', 'U0BOB']);
    await slack.usergroups.users.update({ usergroup: 'S0ONCALL', users: 'U0BOB' });
    expect(standIn.state.usergroups[0]!.users).toEqual(['U0BOB']);
    expect(await platformError(slack.usergroups.users.update({ usergroup: 'S0NOPE', users: 'U0BOB' }))).toBe(
      'no_such_subteam',
    );
    expect(await platformError(slack.usergroups.users.update({ usergroup: 'S0ONCALL', users: 'U0GHOST' }))).toBe(
      'invalid_users',
    );
  });
});

describe('rate limits and injected faults', () => {
  it('answers HTTP 429 with Retry-After over a per-method limit', async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ rateLimits: { 'chat.postMessage': { perSecond: 1 } } });
    slack = client(SLACK_STAND_IN_TOKEN);
    await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'first' });
    const err = await failure(slack.chat.postMessage({ channel: 'C0ALERTS', text: 'second' }));
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.code === ErrorCode.RateLimitedError && err.retryAfter).toBeGreaterThanOrEqual(1);
    await slack.auth.test(); // other methods are not limited

    const raw = await fetch(`${standIn.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SLACK_STAND_IN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'channel=C0ALERTS&text=third',
    });
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(standIn.state.messages.map((m) => m.text)).toEqual(['first']);
  });

  it("counts chat.postMessage per channel when told to, as Slack's special tier does; a fault window may name one channel", async () => {
    await standIn.close();
    standIn = await startSlackStandIn({
      channels: [{ id: 'C0STORM', name: 'storm' }, { id: 'C0QUIET', name: 'quiet' }],
      rateLimits: { 'chat.postMessage': { perSecond: 1, perChannel: true } },
    });
    slack = client(SLACK_STAND_IN_TOKEN);
    await slack.chat.postMessage({ channel: 'C0STORM', text: 'storm 1' });
    expect((await failure(slack.chat.postMessage({ channel: 'C0STORM', text: 'storm 2' }))).code).toBe(ErrorCode.RateLimitedError);
    await slack.chat.postMessage({ channel: 'C0QUIET', text: 'quiet 1' });

    standIn.state.failFor('chat.postMessage', { status: 503 }, 60_000, 'C0QUIET');
    expect((await failure(slack.chat.postMessage({ channel: 'C0QUIET', text: 'quiet 2' }))).code).toBe(ErrorCode.HTTPError);
    expect(standIn.state.messages.map((m) => m.text)).toEqual(['storm 1', 'quiet 1']);
    standIn.state.clearFaults();
  });

  it('answers HTTP 200 ok:false rate_limited over a limit set to answer as chat.postMessage documents', async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ rateLimits: { 'chat.postMessage': { perSecond: 1, answer: 'rate_limited' } } });
    const raw = () =>
      fetch(`${standIn.url}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SLACK_STAND_IN_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ channel: 'C0ALERTS', text: 'x' }),
      });
    expect((await raw()).status).toBe(200);
    const limited = await raw();
    expect(limited.status).toBe(200);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(await limited.json()).toEqual({ ok: false, error: 'rate_limited' });
    expect(standIn.state.messages).toHaveLength(1);
    expect(standIn.state.calls.map((c) => [c.status, c.error])).toEqual([[200, undefined], [200, 'rate_limited']]);
  });

  it('does the work and answers a gateway\'s status instead (afterWork): a 504 after Slack posted', async () => {
    standIn.state.failNext('chat.postMessage', { status: 504, body: '<html>504 Gateway Time-out</html>', afterWork: true });
    const raw = await fetch(`${standIn.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SLACK_STAND_IN_TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0ALERTS', text: 'posted behind a timed-out gateway' }),
    });
    expect(raw.status).toBe(504);
    expect(await raw.text()).toContain('504 Gateway Time-out');
    expect(standIn.state.messages.map((m) => m.text)).toEqual(['posted behind a timed-out gateway']);
    expect(standIn.state.calls.map((c) => [c.status, c.answerLost])).toEqual([[200, true]]);
  });

  it('limits a method per minute, as Slack\'s tiers do (conversations.replies is Tier 3)', async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ channels: [{ id: 'C0ALERTS', name: 'alerts' }], rateLimits: { 'conversations.replies': { perMinute: 2 } } });
    slack = client(SLACK_STAND_IN_TOKEN);
    const root = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'root' });
    for (let i = 0; i < 2; i++) await slack.conversations.replies({ channel: 'C0ALERTS', ts: root.ts! });
    const err = await failure(slack.conversations.replies({ channel: 'C0ALERTS', ts: root.ts! }));
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    // Up to a minute, in whole seconds, from the first call of the window.
    expect(err.code === ErrorCode.RateLimitedError && err.retryAfter).toBeGreaterThan(1);
    expect(err.code === ErrorCode.RateLimitedError && err.retryAfter).toBeLessThanOrEqual(60);
  });

  it('holds 15 messages a read page for an app from outside the Marketplace, whatever limit it asks for', async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ channels: [{ id: 'C0ALERTS', name: 'alerts' }], readPageMax: 15 });
    slack = client(SLACK_STAND_IN_TOKEN);
    const root = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'root' });
    for (let i = 0; i < 20; i++) await slack.chat.postMessage({ channel: 'C0ALERTS', text: `m${i}` });
    for (let i = 0; i < 20; i++) await slack.chat.postMessage({ channel: 'C0ALERTS', text: `r${i}`, thread_ts: root.ts! });
    const history = await slack.conversations.history({ channel: 'C0ALERTS', limit: 200 });
    expect(history.messages).toHaveLength(15);
    expect(history.has_more).toBe(true);
    const replies = await slack.conversations.replies({ channel: 'C0ALERTS', ts: root.ts!, limit: 200 });
    expect(replies.messages).toHaveLength(15);
    expect(replies.has_more).toBe(true);
  });

  it('injects 500s, 429s and ok:false answers for the next calls, in process', async () => {
    standIn.state.failNext('chat.postMessage', { status: 500 }, 2);
    standIn.state.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    standIn.state.failNext('chat.postMessage', { ok: false, error: 'channel_not_found' });
    const post = () => slack.chat.postMessage({ channel: 'C0ALERTS', text: 'x' });

    for (let i = 0; i < 2; i++) {
      const e = await failure(post());
      expect(e.code === ErrorCode.HTTPError && e.statusCode).toBe(500);
    }
    const limited = await failure(post());
    expect(limited.code === ErrorCode.RateLimitedError && limited.retryAfter).toBe(1);
    expect(await platformError(post())).toBe('channel_not_found');
    await post();
    expect(standIn.state.messages).toHaveLength(1);
    expect(standIn.state.calls.map((c) => c.status)).toEqual([500, 500, 429, 200, 200]);
  });

  it('can take a post and lose its answer: the message is there, the caller gets no HTTP answer', async () => {
    standIn.state.failNext('chat.postMessage', { loseAnswer: true });
    const e = await failure(slack.chat.postMessage({ channel: 'C0ALERTS', text: 'taken', metadata: { event_type: 'alertbus_command', event_payload: { command_id: 'c1' } } }));
    expect(e.code).toBe(ErrorCode.RequestError);
    expect(standIn.state.messages.map((m) => m.text)).toEqual(['taken']);
    expect(standIn.state.calls).toEqual([expect.objectContaining({ method: 'chat.postMessage', status: 200, answerLost: true })]);
    // The caller can find it again by its metadata, and the next call is answered as usual.
    const history = await slack.conversations.history({ channel: 'C0ALERTS', include_all_metadata: true });
    expect(history.messages?.map((m) => m.metadata?.event_payload)).toEqual([{ command_id: 'c1' }]);
    await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'answered' });
    expect(standIn.state.messages).toHaveLength(2);
  });

  it('answers every call with a fault for a period (an outage, a 429 storm) until it ends or is cleared', async () => {
    await standIn.close();
    let clock = Date.parse('2026-11-22T08:00:00Z');
    standIn = await startSlackStandIn({ now: () => clock });
    slack = client(SLACK_STAND_IN_TOKEN);
    const set = await fetch(`${base()}/_stand-in/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: '*', fault: { status: 503 }, forMs: 120_000 }),
    });
    expect(set.status).toBe(200);
    for (const call of [() => slack.chat.postMessage({ channel: 'C0ALERTS', text: 'x' }), () => slack.auth.test()]) {
      const e = await failure(call());
      expect(e.code === ErrorCode.HTTPError && e.statusCode).toBe(503);
    }
    const raw = await fetch(`${standIn.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SLACK_STAND_IN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'channel=C0ALERTS&text=y',
    });
    expect(raw.status).toBe(503);
    expect(await raw.json()).toEqual({ ok: false, error: 'service_unavailable' });
    clock += 120_000; // the window is over
    await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'after the outage' });

    standIn.state.failFor('chat.postMessage', { status: 429, retryAfter: 90 }, 60_000);
    const limited = await failure(slack.chat.postMessage({ channel: 'C0ALERTS', text: 'z' }));
    expect(limited.code === ErrorCode.RateLimitedError && limited.retryAfter).toBe(90);
    await slack.auth.test(); // other methods answer
    expect((await fetch(`${base()}/_stand-in/faults`, { method: 'DELETE' })).status).toBe(200);
    await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'after the storm' });
    expect(standIn.state.messages.map((m) => m.text)).toEqual(['after the outage', 'after the storm']);

    const bad = await fetch(`${base()}/_stand-in/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: '*', fault: { status: 503 }, forMs: -1 }),
    });
    expect(bad.status).toBe(400);
  });

  it('takes faults over HTTP and shows messages and calls for assertions', async () => {
    const res = await fetch(`${base()}/_stand-in/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'chat.update', fault: { status: 503 }, times: 1 }),
    });
    expect(res.status).toBe(200);
    const root = await slack.chat.postMessage({ channel: 'C0ALERTS', text: 'root' });
    const e = await failure(slack.chat.update({ channel: 'C0ALERTS', ts: root.ts!, text: 'new' }));
    expect(e.code === ErrorCode.HTTPError && e.statusCode).toBe(503);
    await slack.chat.update({ channel: 'C0ALERTS', ts: root.ts!, text: 'new' });

    const { messages } = (await (await fetch(`${base()}/_stand-in/messages`)).json()) as {
      messages: Array<{ channel: string; ts: string; text: string; updates: number }>;
    };
    expect(messages).toEqual([expect.objectContaining({ channel: 'C0ALERTS', ts: root.ts, text: 'new', updates: 1 })]);
    const { calls } = (await (await fetch(`${base()}/_stand-in/calls`)).json()) as {
      calls: Array<{ method: string; status: number }>;
    };
    expect(calls.map((c) => `${c.method} ${c.status}`)).toEqual([
      'chat.postMessage 200',
      'chat.update 503',
      'chat.update 200',
    ]);
  });
});

test('a response_url takes JSON with text or blocks, records it with its id, and refuses an empty or mistyped answer', async () => {
  const url = responseUrl(standIn.url, 'T0/123/abc');
  const post = (body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ok = await post({ response_type: 'in_channel', text: 'on call: <@U0ALICE>' });
  expect([ok.status, await ok.text()]).toEqual([200, 'ok']);
  expect((await post({ response_type: 'everyone', text: 'x' })).status).toBe(400);
  expect((await post({ response_type: 'ephemeral' })).status).toBe(400);
  const listed = (await (await fetch(`${base()}/_stand-in/responses`)).json()) as { responses: Array<{ id: string; body: unknown }> };
  expect(listed.responses.map((r) => [r.id, r.body])).toEqual([['T0/123/abc', { response_type: 'in_channel', text: 'on call: <@U0ALICE>' }]]);
  await fetch(`${base()}/_stand-in/reset`, { method: 'POST' });
  expect(standIn.state.responses).toEqual([]);
});

test('a response_url takes 5 answers, and none once expired, as Slack: 404 used_url / expired_url', async () => {
  const post = (id: string) =>
    fetch(responseUrl(standIn.url, id), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x' }) });
  for (let i = 0; i < 5; i++) expect((await post('five')).status).toBe(200);
  const sixth = await post('five');
  expect([sixth.status, await sixth.text()]).toEqual([404, 'used_url']);
  standIn.state.expiredResponseUrls.add('old');
  const late = await post('old');
  expect([late.status, await late.text()]).toEqual([404, 'expired_url']);
  expect(standIn.state.responses.map((r) => r.id)).toEqual(['five', 'five', 'five', 'five', 'five']);
});

test('a response_url path the stand-in never gave answers 404 no_service, as hooks.slack.com does, without repeating the path (the path is the secret)', async () => {
  const secret = 'T0/123/Zq9secretPart';
  for (const path of [`/_stand-in/response/${secret}`, `/commands/${secret}`, `/_stand-in/response/${secret}?x=1`]) {
    const res = await fetch(`${base()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x' }) });
    const body = await res.text();
    expect([res.status, body]).toEqual([404, 'no_service']);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  }
  expect(standIn.state.responses).toEqual([]);
});

test('chat.postMessage to a user id writes in the app\'s direct message with that user; an unknown or deactivated user is channel_not_found', async () => {
  const res = await slack.chat.postMessage({ channel: 'U0BOB', text: 'only for bob' });
  expect(res.channel).toBe('D0BOB');
  expect(standIn.state.messages.map((m) => [m.channel, m.text])).toEqual([['D0BOB', 'only for bob']]);
  expect(await platformError(slack.chat.postMessage({ channel: 'U0GHOST', text: 'x' }))).toBe('channel_not_found');
  expect(await platformError(slack.chat.postMessage({ channel: 'U0GONE', text: 'x' }))).toBe('channel_not_found');
  const listed = await slack.conversations.list({ types: 'public_channel,private_channel' });
  expect(listed.channels?.map((c) => c.id)).not.toContain('D0BOB');
});

test('chat.postEphemeral needs the app and the user in the channel, as Slack: channel_not_found, not_in_channel, user_not_in_channel', async () => {
  await standIn.close();
  standIn = await startSlackStandIn({
    channels: [
      { id: 'C0TEAM', name: 'team', members: ['U0ALICE'] },
      { id: 'C0QUIET', name: 'quiet', withoutApp: true },
      { id: 'G0HIDDEN', name: 'hidden', isPrivate: true, withoutApp: true },
    ],
    users: [
      { id: 'U0ALICE', name: 'alice' },
      { id: 'U0BOB', name: 'bob' },
    ],
  });
  slack = client(SLACK_STAND_IN_TOKEN);
  await slack.chat.postEphemeral({ channel: 'C0TEAM', user: 'U0ALICE', text: 'for alice' });
  expect(await platformError(slack.chat.postEphemeral({ channel: 'C0TEAM', user: 'U0BOB', text: 'x' }))).toBe('user_not_in_channel');
  expect(await platformError(slack.chat.postEphemeral({ channel: 'C0QUIET', user: 'U0ALICE', text: 'x' }))).toBe('not_in_channel');
  expect(await platformError(slack.chat.postEphemeral({ channel: 'G0HIDDEN', user: 'U0ALICE', text: 'x' }))).toBe('channel_not_found');
  expect(standIn.state.ephemerals.map((e) => [e.channel, e.user, e.text])).toEqual([['C0TEAM', 'U0ALICE', 'for alice']]);
  // chat:write.public: a public channel takes the app's messages without it; a private one it is not in does not exist for it.
  expect((await slack.chat.postMessage({ channel: 'C0QUIET', text: 'public' })).channel).toBe('C0QUIET');
  expect(await platformError(slack.chat.postMessage({ channel: 'G0HIDDEN', text: 'x' }))).toBe('channel_not_found');
  const listed = await slack.conversations.list({ types: 'public_channel,private_channel' });
  expect(listed.channels?.map((c) => [c.id, c.is_member])).toEqual([['C0TEAM', true], ['C0QUIET', false]]);
});

test('a bot reads only the channels it is in, as Slack: not_in_channel until conversations.join; a private one it cannot join', async () => {
  await standIn.close();
  standIn = await startSlackStandIn({
    channels: [
      { id: 'C0QUIET', name: 'quiet', withoutApp: true },
      { id: 'G0OWN', name: 'own', isPrivate: true },
      { id: 'G0HIDDEN', name: 'hidden', isPrivate: true, withoutApp: true },
      { id: 'C0OLD', name: 'old', isArchived: true, withoutApp: true },
    ],
  });
  slack = client(SLACK_STAND_IN_TOKEN);
  const posted = await slack.chat.postMessage({ channel: 'C0QUIET', text: 'public' });
  expect(await platformError(slack.conversations.history({ channel: 'C0QUIET' }))).toBe('not_in_channel');
  expect(await platformError(slack.conversations.replies({ channel: 'C0QUIET', ts: posted.ts! }))).toBe('not_in_channel');
  expect(await platformError(slack.conversations.history({ channel: 'G0HIDDEN' }))).toBe('channel_not_found');
  const joined = await slack.conversations.join({ channel: 'C0QUIET' });
  expect(joined.channel).toMatchObject({ id: 'C0QUIET', is_member: true });
  expect((await slack.conversations.history({ channel: 'C0QUIET' })).messages?.map((m) => m.text)).toEqual(['public']);
  expect((await slack.conversations.join({ channel: 'C0QUIET' })).warning).toBe('already_in_channel');
  expect(await platformError(slack.conversations.join({ channel: 'G0OWN' }))).toBe('method_not_supported_for_channel_type');
  expect(await platformError(slack.conversations.join({ channel: 'G0HIDDEN' }))).toBe('channel_not_found');
  expect(await platformError(slack.conversations.join({ channel: 'C0OLD' }))).toBe('is_archived');
});
