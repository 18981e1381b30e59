/** The Events API normaliser over the real Slack fixtures (../shared/fixtures/slack). */
import { validateEnvelope, makeEnvelope } from '@alertbus/schemas';
import { fixture } from '../../../../test/support/fixtures';
import { normaliseSlackEvent, type BotIdentity, type SlackEventResult } from './normalise-event';
import { slackTsToIso, unixSecondsToIso } from './time';
import type { SlackEventCallbackWire, SlackInnerEventWire } from './wire';

const RECORDED_AT = '2026-05-01T12:00:00.000Z';
const NOBODY: BotIdentity = { userId: 'U0ALERTBUS', botId: 'B0ALERTBUS' };

/** Inner-event-only fixtures, wrapped the way Slack delivers them over HTTP. */
function wrap(event: unknown, extra: Partial<SlackEventCallbackWire> = {}): SlackEventCallbackWire {
  return { type: 'event_callback', team_id: 'T111', api_app_id: 'A0ALERTBUS', event_id: 'Ev0TEST', event_time: 1_700_000_000, event: event as SlackInnerEventWire, ...extra };
}

function run(body: SlackEventCallbackWire, identity: BotIdentity = NOBODY, extra: { retryNum?: number; retryReason?: string } = {}): SlackEventResult {
  return normaliseSlackEvent(body, { identity, recordedAt: RECORDED_AT, ...extra });
}

function message(result: SlackEventResult) {
  if (result.outcome !== 'message') throw new Error(`expected a message, got ${JSON.stringify(result)}`);
  // Whatever it produced must be a valid SlackMessageReceived.
  const valid = validateEnvelope(
    makeEnvelope({ id: 'x', type: 'SlackMessageReceived', alias: result.alias, occurredAt: result.occurredAt ?? RECORDED_AT, recordedAt: RECORDED_AT, source: 'test', data: result.data }),
  );
  if (!valid.ok) throw new Error(valid.error);
  return result;
}

describe('normaliseSlackEvent', () => {
  test('app_mention → a mention keyed by slack:{team}:{channel}:{ts}, the whole body kept as raw but its verification token', () => {
    const body = fixture<SlackEventCallbackWire>('slack/event_callback_app_mention.json');
    const r = message(run(body));
    expect(r.alias).toBe('slack:T123:C123:1583636399.000700');
    expect(r.occurredAt).toBe('2020-03-08T02:59:59.000Z');
    expect(r.data).toEqual({
      kind: 'mention',
      team: 'T123',
      channel: 'C123',
      channelType: 'unknown',
      user: 'UUUUUXXXXX',
      text: '<@U123> test',
      ts: '1583636399.000700',
      eventId: 'EvV1KV8BM3',
      eventTime: '2020-03-08T02:59:59.000Z',
      eventTs: '1583636399.000700',
      apiAppId: 'A123',
      raw: { ...body, token: undefined },
    });
    // The legacy verification token is a secret: not on Kafka. The caller's body is left as it was.
    expect(body).toHaveProperty('token');
    expect(r.data.raw).not.toHaveProperty('token');
  });

  test('the retry headers are kept; a redelivery under another event_id has the same alias', () => {
    const body = fixture<SlackEventCallbackWire>('slack/event_callback_app_mention.json');
    const first = message(run(body));
    const retry = message(run(body, NOBODY, { retryNum: 2, retryReason: 'http_timeout' }));
    const again = message(run({ ...body, event_id: 'Ev0ANOTHER' }));
    expect(retry.data).toMatchObject({ retryNum: 2, retryReason: 'http_timeout' });
    expect(first.data.retryNum).toBeUndefined();
    expect(again.data.eventId).toBe('Ev0ANOTHER');
    expect(new Set([first.alias, retry.alias, again.alias]).size).toBe(1);
  });

  test('the Socket Mode sample\'s payload is the same event_callback', () => {
    const { payload } = fixture<{ payload: SlackEventCallbackWire }>('slack/socket_mode_envelope_app_mention.json');
    expect(message(run(payload)).data).toMatchObject({ kind: 'mention', user: 'U222', text: '<@U111>' });
  });

  test.each([
    ['a channel message over HTTP', () => fixture<SlackEventCallbackWire>('slack/event_callback_message_channel.json')],
    ['an app_mention over Socket Mode', () => fixture<{ payload: SlackEventCallbackWire }>('slack/socket_mode_envelope_app_mention.json').payload],
  ])('%s: raw is the body but its legacy verification token (a secret), the body left as it was', (_what, read) => {
    const body = read();
    const { token, ...rest } = body as SlackEventCallbackWire & { token?: string };
    expect(token).toEqual(expect.any(String));
    const r = message(run(body));
    expect(r.data.raw).toStrictEqual(rest);
    expect(JSON.stringify(r.data)).not.toContain(token);
    expect(body).toStrictEqual(read());
  });

  test('a DM reply in a thread → kind dm, its own ts in the alias, the thread root in threadTs', () => {
    const r = message(run(fixture('slack/event_callback_message_im_thread_reply.json')));
    expect(r.alias).toBe('slack:T111:D111:1726133700.887259');
    expect(r.data).toMatchObject({ kind: 'dm', channelType: 'im', user: 'W222', ts: '1726133700.887259', threadTs: '1726133698.626339' });
  });

  test('a channel message → kind message; a reply broadcast to the channel keeps its thread', () => {
    expect(message(run(fixture('slack/event_callback_message_channel.json'))).data).toMatchObject({
      kind: 'message',
      channelType: 'channel',
      user: 'U06NU4E26M9',
    });
    const b = message(run(wrap(fixture('slack/event_message_thread_broadcast.json'))));
    expect(b.data).toMatchObject({ kind: 'message', ts: '1673464745.620769', threadTs: '1673464730.703009' });
  });

  describe('the app\'s own messages are dropped', () => {
    const own = () => fixture<SlackEventCallbackWire>('slack/event_callback_own_bot_message.json');

    test.each([
      ['its bot user id', { userId: 'U074G5E1ANR' }],
      ['its bot id', { botId: 'B074K2M1NF4' }],
      ['its app id alone (api_app_id), whatever the configured ids', { userId: 'U0SOMEONE', botId: 'B0SOMEONE' }],
    ])('recognised by %s', (_what, identity) => {
      expect(run(own(), identity)).toMatchObject({ outcome: 'ignored', reason: 'own-message' });
    });

    test('also inside message_changed (an update of its own message) and message_deleted', () => {
      const mine = own().event!;
      const changed = wrap(
        { type: 'message', subtype: 'message_changed', hidden: true, channel: mine.channel, channel_type: 'channel', message: { ...mine, text: 'updated' }, previous_message: mine, ts: '1718856900.000100', event_ts: '1718856900.000100' },
        { api_app_id: 'A0OTHERAPP' },
      );
      expect(run(changed, { userId: 'U074G5E1ANR' })).toMatchObject({ outcome: 'ignored', reason: 'own-message' });
      expect(run(changed, { botId: 'B074K2M1NF4' })).toMatchObject({ outcome: 'ignored', reason: 'own-message' });
      const deleted = wrap(fixture('slack/event_message_deleted_bot_message.json'));
      expect(run(deleted, { botId: 'B111' })).toMatchObject({ outcome: 'ignored', reason: 'own-message' });
    });
  });

  test('other bots\' messages are kept, marked with their botId', () => {
    const integration = message(run(fixture('slack/event_callback_bot_message_integration.json')));
    expect(integration.data).toMatchObject({ kind: 'message', botId: 'B06NWMNUQ3W' });
    expect(integration.data.user).toBeUndefined();
    const classic = message(run(wrap(fixture('slack/event_bot_message_in_thread.json'))));
    expect(classic.data).toMatchObject({ botId: 'B111', threadTs: '1610402224.000200' });
    const deleted = message(run(wrap(fixture('slack/event_message_deleted_bot_message.json'))));
    expect(deleted.data).toMatchObject({ kind: 'delete', botId: 'B111', user: 'U111' });
  });

  test('message_changed → kind edit under the ORIGINAL message\'s alias, new and previous text, when it was edited', () => {
    const r = message(run(wrap(fixture('slack/event_message_changed_in_thread.json'))));
    expect(r.alias).toBe('slack:T111:C111:1626342128.008700');
    expect(r.occurredAt).toBe('2021-07-15T09:42:17.000Z');
    expect(r.data).toMatchObject({
      kind: 'edit',
      user: 'U111',
      text: 'updated message',
      previousText: 'test',
      ts: '1626342128.008700',
      threadTs: '1626342092.008500',
      eventTs: '1626342137.008900',
    });
  });

  test('message_deleted → kind delete under the deleted message\'s alias', () => {
    const r = message(run(wrap(fixture('slack/event_message_deleted_minimal.json'))));
    expect(r.alias).toBe('slack:T111:C2147483705:1358878749.000002');
    expect(r.data).toMatchObject({ kind: 'delete', text: '', ts: '1358878749.000002' });
  });

  test('a deleted thread parent (message_changed to a tombstone) → kind delete by the original author', () => {
    const r = message(run(wrap(fixture('slack/event_message_changed_tombstone_im.json'))));
    expect(r.alias).toBe('slack:T111:D0697V:1728639839.746989');
    expect(r.data).toMatchObject({ kind: 'delete', user: 'U06TFGNC', previousText: 'need help with VPN', channelType: 'im', text: '' });
    expect(r.data.threadTs).toBeUndefined(); // the parent's thread_ts is its own ts
  });

  test('a permalink when the workspace URL is known', () => {
    const identity = { ...NOBODY, workspaceUrl: 'https://acme.slack.com/' };
    expect(message(run(fixture('slack/event_callback_app_mention.json'), identity)).data.permalink).toBe(
      'https://acme.slack.com/archives/C123/p1583636399000700',
    );
    expect(message(run(fixture('slack/event_callback_message_im_thread_reply.json'), identity)).data.permalink).toBe(
      'https://acme.slack.com/archives/D111/p1726133700887259?thread_ts=1726133698.626339&cid=D111',
    );
  });

  test.each([
    [{ type: 'reaction_added', user: 'U1', item: {} }, 'unsupported-event'],
    [{ type: 'message', subtype: 'channel_join', user: 'U1', channel: 'C1', ts: '1.000001' }, 'unsupported-subtype'],
  ])('%j is ignored (%s)', (event, reason) => {
    expect(run(wrap(event))).toMatchObject({ outcome: 'ignored', reason });
  });

  test('an event_callback missing what the alias needs is invalid, with a reason', () => {
    const body = fixture<SlackEventCallbackWire>('slack/event_callback_app_mention.json');
    expect(run({ ...body, event_id: undefined })).toEqual({ outcome: 'invalid', message: 'event_callback without event_id' });
    expect(run({ ...body, event: { ...body.event, ts: undefined } })).toMatchObject({ outcome: 'invalid' });
    expect(run({ ...body, event: undefined })).toMatchObject({ outcome: 'invalid' });
  });

  test('a text that is not a string is invalid, named; a missing one is empty', () => {
    const body = fixture<SlackEventCallbackWire>('slack/event_callback_app_mention.json');
    for (const text of [true, 0, [], ['ack a'], { k: 1 }]) {
      expect(run({ ...body, event: { ...body.event, text } as unknown as SlackInnerEventWire })).toEqual({ outcome: 'invalid', message: 'app_mention event whose text is not a string' });
    }
    expect(message(run({ ...body, event: { ...body.event, text: null } as unknown as SlackInnerEventWire })).data.text).toBe('');
  });
});

test('slackTsToIso reads dotted ts and Slack\'s undotted event_ts sample', () => {
  expect(slackTsToIso('1583636399.000700')).toBe('2020-03-08T02:59:59.000Z');
  expect(slackTsToIso('1515449522000016')).toBe('2018-01-08T22:12:02.000Z');
  expect(slackTsToIso('soon')).toBeUndefined();
});

test('unixSecondsToIso gives no time for numbers that are none (a mutated event_time must not fail the request)', () => {
  expect(unixSecondsToIso(1583636399)).toBe('2020-03-08T02:59:59.000Z');
  for (const v of [1e308, 8.64e12 + 1, -1, 0, Number.NaN, '1583636399']) expect(unixSecondsToIso(v)).toBeUndefined();
});
