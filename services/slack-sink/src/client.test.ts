/**
 * How every failure of the Slack Web API becomes a retry or a permanent failure. The failures are real:
 * produced by the Slack stand-in over HTTP and thrown by @slack/web-api itself, then mapped.
 */
import pino from 'pino';
import { DeliveryError } from '@alertbus/common';
import { mayHaveTakenEffect, NotSentError } from '@alertbus/sink-runtime';
import {
  SLACK_STAND_IN_TOKEN,
  tokenFingerprint,
  startSlackStandIn,
  type SlackFault,
  type SlackStandIn,
} from '../../../packages/stand-ins/src/slack/server';
import { SlackClient, isChannelId, postToNamedChannel, toDeliveryError } from './client';
import type { PostMessageBody } from './wire';

const TOKEN = SLACK_STAND_IN_TOKEN;
const silent = pino({ level: 'silent' });
let standIn: SlackStandIn;

const client = (apiUrl = standIn.url, token = TOKEN) => new SlackClient({ token, apiUrl, timeoutMs: 5000, log: silent });
const post = (c = client()) => c.postMessage({ channel: 'C0ALERTS', text: 'disk full', metadata: { event_type: 'alertbus_command', event_payload: { command_id: 'c1', incident_id: 'i1' } }, unfurl_links: false, unfurl_media: false });

async function failure(call: Promise<unknown>): Promise<DeliveryError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof DeliveryError) return err;
    throw new Error(`expected a DeliveryError, got ${String(err)}`);
  }
  throw new Error('expected the call to fail');
}

beforeEach(async () => {
  standIn = await startSlackStandIn({
    channels: [
      { id: 'C0ALERTS', name: 'alerts' },
      { id: 'G0PRIV', name: 'private-alerts', isPrivate: true },
    ],
  });
});
afterEach(() => standIn.close());

describe('error mapping', () => {
  const cases: Array<[string, SlackFault, { permanent: boolean; httpStatus?: number; retryAfterMs?: number; message: RegExp }]> = [
    ['ok:false channel_not_found', { ok: false, error: 'channel_not_found' }, { permanent: true, message: /channel_not_found/ }],
    ['ok:false not_in_channel', { ok: false, error: 'not_in_channel' }, { permanent: true, message: /not_in_channel/ }],
    ['ok:false invalid_auth', { ok: false, error: 'invalid_auth' }, { permanent: true, message: /invalid_auth/ }],
    ['ok:false msg_too_long', { ok: false, error: 'msg_too_long' }, { permanent: true, message: /msg_too_long/ }],
    ['ok:false invalid_blocks', { ok: false, error: 'invalid_blocks' }, { permanent: true, message: /invalid_blocks/ }],
    ['ok:false ratelimited', { ok: false, error: 'ratelimited' }, { permanent: false, message: /ratelimited/ }],
    // chat.postMessage's own "Application has posted too many messages" (HTTP 200, with an underscore, no 429).
    ['ok:false rate_limited', { ok: false, error: 'rate_limited' }, { permanent: false, message: /rate_limited/ }],
    // A free workspace over its usage limit: its members are sending too many messages, for a while.
    ['ok:false message_limit_exceeded', { ok: false, error: 'message_limit_exceeded' }, { permanent: false, message: /message_limit_exceeded/ }],
    ['ok:false internal_error', { ok: false, error: 'internal_error' }, { permanent: false, message: /internal_error/ }],
    ['ok:false fatal_error', { ok: false, error: 'fatal_error' }, { permanent: false, message: /fatal_error/ }],
    ['ok:false service_unavailable', { ok: false, error: 'service_unavailable' }, { permanent: false, message: /service_unavailable/ }],
    ['ok:false request_timeout', { ok: false, error: 'request_timeout' }, { permanent: false, message: /request_timeout/ }],
    // The workspace moving into an Enterprise organization: Slack says its API is intermittently unavailable until then.
    ['ok:false team_added_to_org', { ok: false, error: 'team_added_to_org' }, { permanent: false, message: /team_added_to_org/ }],
    ['ok:false org_login_required', { ok: false, error: 'org_login_required' }, { permanent: false, message: /org_login_required/ }],
    ['HTTP 429 Retry-After 3', { status: 429, retryAfter: 3 }, { permanent: false, httpStatus: 429, retryAfterMs: 3000, message: /rate limited/ }],
    ['HTTP 429 without Retry-After', { status: 429 }, { permanent: false, httpStatus: 429, message: /Retry header/ }],
    ['HTTP 500', { status: 500 }, { permanent: false, httpStatus: 500, message: /HTTP 500/ }],
    ['HTTP 503 Retry-After 2', { status: 503, retryAfter: 2 }, { permanent: false, httpStatus: 503, retryAfterMs: 2000, message: /HTTP 503/ }],
    ['HTTP 408 (a proxy timed the request out)', { status: 408, body: 'request timeout' }, { permanent: false, httpStatus: 408, message: /HTTP 408/ }],
    ['HTTP 404', { status: 404, body: 'not found' }, { permanent: true, httpStatus: 404, message: /HTTP 404/ }],
    ['HTTP 400', { status: 400, body: { ok: false, error: 'invalid_form_data' } }, { permanent: true, httpStatus: 400, message: /HTTP 400/ }],
    // A proxy's page or a cut answer with status 200 is not Slack saying no: tried again; nor saying it was not done:
    // no status, as a call that got no answer, so the next attempt looks for the post first.
    ['HTTP 200 with an HTML page', { status: 200, body: '<html><body>502 Bad Gateway</body></html>' }, { permanent: false, httpStatus: undefined, message: /not a Web API answer \(text\/plain/ }],
    ['HTTP 200 with JSON that has no ok', { status: 200, body: { message: 'upstream timed out' } }, { permanent: false, httpStatus: undefined, message: /not a Web API answer/ }],
  ];

  it.each(cases)('%s', async (_name, fault, expected) => {
    standIn.state.failNext('chat.postMessage', fault);
    const err = await failure(post());
    expect(err.permanent).toBe(expected.permanent);
    expect(err.httpStatus).toBe(expected.httpStatus);
    expect(err.retryAfterMs).toBe(expected.retryAfterMs);
    expect(err.message).toMatch(expected.message);
  });

  it('takes a post answered HTTP 200 with something that is not a Web API answer as maybe done: the next attempt looks first', async () => {
    standIn.state.failNext('chat.postMessage', { status: 200, body: '<html>proxy</html>' });
    expect(mayHaveTakenEffect(await failure(post()))).toBe(true);
  });

  it('maps a per-method rate limit (429 + Retry-After) to a retry after that many seconds', async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ rateLimits: { 'chat.postMessage': { perSecond: 1 } } });
    await post();
    const err = await failure(post());
    expect(err).toMatchObject({ permanent: false, httpStatus: 429 });
    expect(err.retryAfterMs).toBeGreaterThanOrEqual(1000);
  });

  it('maps chat.postMessage\'s own rate limit (HTTP 200 ok:false rate_limited, no Retry-After) to a retry after the usual back-off', async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ rateLimits: { 'chat.postMessage': { perSecond: 1, answer: 'rate_limited' } } });
    await post();
    const err = await failure(post());
    expect(err).toMatchObject({ permanent: false, httpStatus: undefined, retryAfterMs: undefined, message: 'Slack answered rate_limited' });
  });

  it('maps real ok:false answers, with Slack\'s details, to permanent failures', async () => {
    const err = await failure(client().postMessage({ channel: '#nowhere', text: 'x' } as never));
    expect(err).toMatchObject({ permanent: true, message: 'Slack answered channel_not_found for channel #nowhere: no such channel, or the app cannot see it (private channel: invite the app)' });
    const auth = await failure(post(client(standIn.url, 'xoxb-revoked-0123456789')));
    expect(auth.permanent).toBe(true);
    expect(auth.message).toMatch(/invalid_auth/);
  });

  it('treats a refused connection as retryable and never puts the token in the message', async () => {
    const url = standIn.url;
    await standIn.close();
    const err = await failure(post(client(url)));
    expect(err.permanent).toBe(false);
    expect(err.httpStatus).toBeUndefined();
    expect(err.message).toMatch(/request to Slack failed/);
    expect(err.message).not.toContain(TOKEN);
    standIn = await startSlackStandIn(); // for afterEach
  });

  it('scrubs tokens from messages of unknown errors and treats them as retryable', () => {
    const err = toDeliveryError(new Error(`socket hang up while sending Bearer ${TOKEN}`), [TOKEN]);
    expect(err.permanent).toBe(false);
    expect(err.message).not.toContain(TOKEN);
  });
});

describe('a channel Slack refuses: the error names the channel and what to do about it', () => {
  it.each([
    ['not_in_channel', 'invite the app to #alerts (/invite @alertbus)'],
    ['is_archived', "the channel is archived: unarchive it or change the rule's channel"],
    ['channel_not_found', 'no such channel, or the app cannot see it (private channel: invite the app)'],
  ])('%s, to the channel a rule names', async (error, hint) => {
    const c = client();
    standIn.state.failNext('chat.postMessage', { ok: false, error });
    const err = await failure(postToNamedChannel(c, '#alerts', (channel) => c.postMessage({ channel, text: 'x' } as never)));
    expect(err).toMatchObject({ permanent: true, message: `Slack answered ${error} for channel #alerts (C0ALERTS): ${hint}` });
  });

  it('not_in_channel, by channel ID (a reply in an incident thread)', async () => {
    standIn.state.failNext('chat.postMessage', { ok: false, error: 'not_in_channel' });
    const err = await failure(post());
    expect(err).toMatchObject({ permanent: true, message: 'Slack answered not_in_channel for channel C0ALERTS: invite the app to channel C0ALERTS (/invite @alertbus)' });
  });
});

describe("a refusal of the sink's only token (SLACK_BOT_TOKEN, no OAuth installations)", () => {
  const sole = () => new SlackClient({ token: TOKEN, apiUrl: standIn.url, timeoutMs: 5000, log: silent, tokenRefusalWaits: true });

  it.each(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'no_permission', 'missing_scope', 'ekm_access_denied'])(
    '%s on a post is retryable, names the error and SLACK_BOT_TOKEN but not the token, and is cleared by the next post that succeeds',
    async (error) => {
      const c = sole();
      standIn.state.failNext('chat.postMessage', { ok: false, error });
      const err = await failure(post(c));
      expect(err).toMatchObject({ permanent: false, httpStatus: undefined, retryAfterMs: undefined });
      // Slack refused before doing anything: the next attempt need not look whether it posted.
      expect(err).toBeInstanceOf(NotSentError);
      expect(err.message).toMatch(new RegExp(`^Slack answered ${error} — Slack refused SLACK_BOT_TOKEN`));
      expect(err.message).not.toContain(TOKEN);
      expect(c.tokenProblem()).toMatch(new RegExp(`SLACK_BOT_TOKEN \\(${error}\\)`));
      await post(c);
      expect(c.tokenProblem()).toBeUndefined();
    },
  );

  it('an update and a look-up refused for the token wait too; a missing scope of a look-up does not (the sink does without it)', async () => {
    const c = sole();
    standIn.state.failNext('chat.update', { ok: false, error: 'token_revoked' });
    expect(await failure(c.update({ channel: 'C0ALERTS', ts: '1700000000.000100', text: 'x' }))).toMatchObject({ permanent: false });
    standIn.state.failNext('conversations.history', { ok: false, error: 'invalid_auth' });
    expect(await failure(c.findCommandMessage({ channel: 'C0ALERTS', oldest: '0', commandId: 'c1' }))).toMatchObject({ permanent: false });
    standIn.state.failNext('conversations.history', { ok: false, error: 'missing_scope' });
    expect(await failure(c.findCommandMessage({ channel: 'C0ALERTS', oldest: '0', commandId: 'c1' }))).toMatchObject({ permanent: true });
  });

  it('a missing chat:write is not cleared by a look-up that succeeds, only by a post', async () => {
    const c = sole();
    standIn.state.failNext('chat.postMessage', { ok: false, error: 'missing_scope' });
    await failure(post(c));
    await c.findCommandMessage({ channel: 'C0ALERTS', oldest: '0', commandId: 'c1' });
    expect(c.tokenProblem()).toMatch(/missing_scope/);
    await post(c);
    expect(c.tokenProblem()).toBeUndefined();
  });

  it("stays permanent for an installation's token: one revoked workspace must not hold back the others", async () => {
    standIn.state.failNext('chat.postMessage', { ok: false, error: 'token_revoked' });
    const c = client();
    expect(await failure(post(c))).toMatchObject({ permanent: true, message: 'Slack answered token_revoked' });
    expect(c.tokenProblem()).toBeUndefined();
  });

  it('a refusal of the call itself (channel_not_found) stays permanent', async () => {
    standIn.state.failNext('chat.postMessage', { ok: false, error: 'channel_not_found' });
    expect(await failure(post(sole()))).toMatchObject({ permanent: true });
  });
});

describe('the calls of every command (chat.postMessage, chat.update)', () => {
  const update = (c = client()) => c.update({ channel: 'C0ALERTS', ts: '1700000000.000100', text: 'resolved', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'resolved' } }] });

  it.each([
    ['HTTP 429 Retry-After 3', { status: 429, retryAfter: 3 }, { permanent: false, httpStatus: 429, retryAfterMs: 3000, message: /rate limited/ }],
    ['HTTP 429 without Retry-After', { status: 429 }, { permanent: false, httpStatus: 429, retryAfterMs: undefined, message: /Retry header/ }],
    ['HTTP 503 Retry-After 2', { status: 503, retryAfter: 2 }, { permanent: false, httpStatus: 503, retryAfterMs: 2000, message: /HTTP 503/ }],
    ['HTTP 400', { status: 400, body: { ok: false, error: 'invalid_form_data' } }, { permanent: true, httpStatus: 400, retryAfterMs: undefined, message: /HTTP 400/ }],
    ['ok:false message_not_found', { ok: false, error: 'message_not_found' }, { permanent: true, httpStatus: undefined, retryAfterMs: undefined, message: /message_not_found/ }],
    ['ok:false service_unavailable', { ok: false, error: 'service_unavailable' }, { permanent: false, httpStatus: undefined, retryAfterMs: undefined, message: /service_unavailable/ }],
    ['HTTP 200 with a body that is not JSON', { status: 200, body: '<html>proxy</html>' }, { permanent: false, httpStatus: undefined, retryAfterMs: undefined, message: /not a Web API answer/ }],
  ] as Array<[string, SlackFault, { permanent: boolean; httpStatus?: number; retryAfterMs?: number; message: RegExp }]>)(
    'an update answered %s fails as a post would',
    async (_name, fault, expected) => {
      standIn.state.failNext('chat.update', fault);
      const err = await failure(update());
      expect(err).toMatchObject({ permanent: expected.permanent, httpStatus: expected.httpStatus, retryAfterMs: expected.retryAfterMs });
      expect(err.message).toMatch(expected.message);
    },
  );

  it('updates a posted message in place', async () => {
    const c = client();
    const root = await post(c);
    expect(await c.update({ channel: root.channel, ts: root.ts, text: 'resolved' })).toEqual(root);
    expect(standIn.state.messages.find((m) => m.ts === root.ts)?.text).toBe('resolved');
  });

  it('sends the token as a bearer header only, and blocks and metadata as JSON', async () => {
    const c = client();
    await c.postMessage({ channel: 'C0ALERTS', text: 'disk full', blocks: [{ type: 'divider' }], metadata: { event_type: 'alertbus_command', event_payload: { command_id: 'c9', incident_id: 'i9' } }, unfurl_links: false, unfurl_media: false });
    const call = standIn.state.calls.find((x) => x.method === 'chat.postMessage')!;
    expect(call.args).toEqual({
      channel: 'C0ALERTS',
      text: 'disk full',
      blocks: [{ type: 'divider' }],
      metadata: { event_type: 'alertbus_command', event_payload: { command_id: 'c9', incident_id: 'i9' } },
      unfurl_links: false,
      unfurl_media: false,
    });
    expect(call).toMatchObject({ tokenFingerprint: tokenFingerprint(TOKEN), tokenVia: 'header' });
  });

  it('gives up on an answer slower than the timeout, as worth another try', async () => {
    await standIn.close();
    standIn = await startSlackStandIn({ latencyMs: 500 });
    const slow = new SlackClient({ token: TOKEN, apiUrl: standIn.url, timeoutMs: 50, log: silent });
    const err = await failure(post(slow));
    expect(err).toMatchObject({ permanent: false, httpStatus: undefined });
    expect(err.message).toMatch(/request to Slack failed: timeout/);
  });
});

describe('channel resolution', () => {
  it('resolves #name and name to the ID with one conversations.list, private channels included', async () => {
    const c = client();
    expect(await c.resolveChannel('#alerts')).toBe('C0ALERTS');
    expect(await c.resolveChannel('alerts')).toBe('C0ALERTS');
    expect(await c.resolveChannel('#private-alerts')).toBe('G0PRIV');
    expect(await c.resolveChannel('C0ANYTHING')).toBe('C0ANYTHING');
    expect(standIn.state.calls.filter((x) => x.method === 'conversations.list')).toHaveLength(1);
  });

  it('does not list again for every unknown name', async () => {
    const c = client();
    expect(await c.resolveChannel('#nope')).toBeUndefined();
    expect(await c.resolveChannel('#nope')).toBeUndefined();
    expect(standIn.state.calls.filter((x) => x.method === 'conversations.list')).toHaveLength(1);
  });

  it('falls back to public channels when the bot may not list private ones', async () => {
    standIn.state.failNext('conversations.list', { ok: false, error: 'missing_scope' });
    expect(await client().resolveChannel('#alerts')).toBe('C0ALERTS');
    expect(standIn.state.calls.map((x) => x.args.types)).toEqual(['public_channel,private_channel', 'public_channel']);
  });

  it('tells IDs from names', () => {
    expect(['C0ALERTS', 'G0PRIV', 'D024BE91L'].map(isChannelId)).toEqual([true, true, true]);
    expect(['alerts', '#alerts', 'Cats'].map(isChannelId)).toEqual([false, false, false]);
  });
});

describe('finding a command\'s message', () => {
  it('a read answered HTTP 200 with something that is not a Web API answer (a proxy\'s page) is tried again, not given up', async () => {
    standIn.state.failNext('conversations.history', { status: 200, body: '<html><body>502 Bad Gateway</body></html>' });
    const err = await failure(client().findCommandMessage({ channel: 'C0ALERTS', oldest: '0.000000', commandId: 'root-cmd' }));
    expect(err.permanent).toBe(false);
    expect(err.message).toMatch(/not a Web API answer/);
  });

  it('finds a message by the command id in its metadata, in the channel or in a thread', async () => {
    const c = client();
    const meta = (id: string) => ({ event_type: 'alertbus_command' as const, event_payload: { command_id: id, incident_id: 'i1' } });
    const root = await c.postMessage({ channel: 'C0ALERTS', text: 'root', metadata: meta('root-cmd'), unfurl_links: false, unfurl_media: false });
    const reply = await c.postMessage({ channel: 'C0ALERTS', text: 'r', thread_ts: root.ts, metadata: meta('reply-cmd'), unfurl_links: false, unfurl_media: false });
    const oldest = '0.000000';
    expect(await c.findCommandMessage({ channel: 'C0ALERTS', oldest, commandId: 'root-cmd' })).toEqual(root);
    expect(await c.findCommandMessage({ channel: 'C0ALERTS', oldest, commandId: 'reply-cmd' })).toBeUndefined();
    expect(await c.findCommandMessage({ channel: 'C0ALERTS', threadTs: root.ts, oldest, commandId: 'reply-cmd' })).toEqual(reply);
    expect(await c.findCommandMessage({ channel: 'C0ALERTS', oldest: reply.ts, commandId: 'root-cmd' })).toBeUndefined();
  });
});

describe('a channel a rule names follows its name', () => {
  const body = (channel: string): PostMessageBody => ({ channel, text: 'disk full', metadata: { event_type: 'alertbus_command', event_payload: { command_id: 'c1', incident_id: 'i1' } }, unfurl_links: false, unfurl_media: false });

  test('archived and made again under its name: the post is refused at the old ID, then goes to the new one at once', async () => {
    const c = client();
    expect((await postToNamedChannel(c, '#alerts', (ch) => c.postMessage(body(ch)))).channel).toBe('C0ALERTS');
    const old = standIn.state.channels.find((ch) => ch.id === 'C0ALERTS')!;
    old.isArchived = true;
    old.name = 'alerts-old';
    standIn.state.channels.push({ id: 'C0NEWALERTS', name: 'alerts' });
    // Before, every root post to #alerts failed is_archived (permanent, dead-lettered) until the sink restarted.
    expect((await postToNamedChannel(c, '#alerts', (ch) => c.postMessage(body(ch)))).channel).toBe('C0NEWALERTS');
    expect(await c.resolveChannel('#alerts')).toBe('C0NEWALERTS');
  });

  test('a refusal that is not about the channel is not retried', async () => {
    const c = client();
    await c.resolveChannel('#alerts');
    let calls = 0;
    const err = await failure(postToNamedChannel(c, '#alerts', async () => {
      calls++;
      throw new DeliveryError('Slack answered msg_too_long', true);
    }));
    expect(err.message).toContain('msg_too_long');
    expect(calls).toBe(1);
  });

  test('renamed, and its name given to another channel: followed within ten minutes', async () => {
    let now = 0;
    const c = new SlackClient({ token: TOKEN, apiUrl: standIn.url, timeoutMs: 5000, log: silent, now: () => now });
    expect(await c.resolveChannel('alerts')).toBe('C0ALERTS');
    standIn.state.channels.find((ch) => ch.id === 'C0ALERTS')!.name = 'alerts-2025';
    standIn.state.channels.push({ id: 'C0NEWALERTS', name: 'alerts' });
    now = 5 * 60_000;
    expect(await c.resolveChannel('alerts')).toBe('C0ALERTS');
    now = 10 * 60_000;
    expect(await c.resolveChannel('alerts')).toBe('C0NEWALERTS');
  });
});

describe("Slack's rate limit on a method (per app per workspace)", () => {
  const calls = (method: string) => standIn.state.calls.filter((c) => c.method === method).length;
  const history = (c: SlackClient) => c.findCommandMessage({ channel: 'C0ALERTS', oldest: '0', commandId: 'c1' });

  test('after a 429, the method is not called again before its Retry-After is over; other methods and workspaces go on', async () => {
    let now = 1_000_000;
    const c = new SlackClient({ token: TOKEN, apiUrl: standIn.url, timeoutMs: 5000, log: silent, now: () => now });
    standIn.state.failNext('chat.postMessage', { status: 429, retryAfter: 20 });
    expect(await failure(post(c))).toMatchObject({ httpStatus: 429, retryAfterMs: 20_000 });
    expect(calls('chat.postMessage')).toBe(1);

    now += 5_000;
    // Another partition's post: refused at once, with the wait left, as Slack would have refused it.
    expect(await failure(post(c))).toMatchObject({ permanent: false, httpStatus: 429, retryAfterMs: 15_000 });
    expect(calls('chat.postMessage')).toBe(1);

    const root = await post(new SlackClient({ token: TOKEN, apiUrl: standIn.url, timeoutMs: 5000, log: silent }));
    expect(calls('chat.postMessage')).toBe(2);
    await c.update({ channel: root.channel, ts: root.ts, text: 'resolved' });
    expect(calls('chat.update')).toBe(1);

    now += 15_000;
    await post(c);
    expect(calls('chat.postMessage')).toBe(3);
  });

  test("a 429 of a call through Slack's WebClient holds that method too", async () => {
    let now = 1_000_000;
    const c = new SlackClient({ token: TOKEN, apiUrl: standIn.url, timeoutMs: 5000, log: silent, now: () => now });
    standIn.state.failNext('conversations.history', { status: 429, retryAfter: 30 });
    expect(await failure(history(c))).toMatchObject({ httpStatus: 429, retryAfterMs: 30_000 });
    now += 10_000;
    expect(await failure(history(c))).toMatchObject({ httpStatus: 429, retryAfterMs: 20_000 });
    expect(calls('conversations.history')).toBe(1);
    await post(c);
    now += 20_000;
    expect(await history(c)).toBeDefined();
    expect(calls('conversations.history')).toBe(2);
  });
});
