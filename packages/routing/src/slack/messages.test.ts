import { builtinRules } from '../rules/compile';
import { rulesFrom } from '../test-support/scenario';
import { NO_SCHEDULE_TEXT, notInThreadText } from './texts';
import { given } from '../test-support/slack-spec';
import { ALICE, BOT_MENTION, CHANNEL, messageAlias, slackMessage } from '../test-support/slack';
import { threadKey } from './thread-key';
import { incidentIdOf } from '../core/incident-id';
import { assertValid } from '@alertbus/schemas';
import { PAGER_LIMITS } from '../core/pager';
import { codePoints } from '../core/text';
import { decideSlackMessage } from './messages';

const builtin = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const builtinNoSchedule = builtinRules({ defaultChannel: '#alerts' });
const rules = rulesFrom('rules.slack.yaml');

const TS = '1700000000.000100';
const M = messageAlias(TS);
const incident = incidentIdOf(M, 1, slackMessage(TS).id);
const defaultsRef = { path: 'defaults', rulesVersion: builtin.version };

describe('Slack messages: a mention or DM is a request answered by the on-call', () => {
  test('given nothing, when someone mentions the app (no rules file), then a Slack incident, the on-call reply in its thread, no page', () => {
    const { sim } = given(builtin)
      .when(slackMessage(TS))
      .then([
        [
          'IncidentOpened',
          {
            incidentId: incident,
            source: 'slack',
            title: 'can someone look at the checkout page?',
            reason: 'first-notification',
            rule: defaultsRef,
            labels: { channel: CHANNEL, user: ALICE, kind: 'mention' },
            links: [{ title: 'Slack message', url: `https://acme.slack.com/archives/${CHANNEL}/p1700000000000100` }],
            slackRequest: { channel: CHANNEL, threadTs: TS, ts: TS, user: ALICE },
          },
        ],
        ['ReplyWithOnCall', { incidentId: incident, channel: CHANNEL, threadTs: TS, schedule: 'ops', requester: ALICE, acknowledgement: 'Looking for the on-call of *ops*…' }],
        ['SlackThreadLinked', { channel: CHANNEL, threadTs: TS, alias: M, incidentId: incident }, threadKey(CHANNEL, TS)],
      ]);
    expect(sim.incident(M)).toMatchObject({ status: 'open', source: 'slack', paged: false });
    expect(sim.states.get(threadKey(CHANNEL, TS))).toMatchObject({ kind: 'slack-thread', alias: M, incidentId: incident });
  });

  test('given a mention, when Slack redelivers it (retries, another event_id, its message twin), then nothing new is said or paged', () => {
    const first = slackMessage(TS, { text: `${BOT_MENTION} the database is down` });
    const g = given(rules, first);
    for (const again of [
      slackMessage(TS, { text: `${BOT_MENTION} the database is down`, delivery: 1, retryNum: 1, retryReason: 'http_timeout', at: 3_000 }),
      slackMessage(TS, { text: `${BOT_MENTION} the database is down`, delivery: 2, retryNum: 2, at: 60_000 }),
      slackMessage(TS, { text: `${BOT_MENTION} the database is down`, delivery: 3, retryNum: 3, at: 300_000 }),
      slackMessage(TS, { text: `${BOT_MENTION} the database is down`, delivery: 4, eventId: 'EvOTHER', at: 301_000 }),
      slackMessage(TS, { text: `${BOT_MENTION} the database is down`, delivery: 5, kind: 'message', channelType: 'channel', at: 302_000 }),
    ]) {
      g.when(again).then([['EventSuppressed', { reason: 'duplicate', incidentId: incident, inputId: again.id }]]);
    }
    expect(g.sim.incident(M)).toMatchObject({ status: 'open', count: 1, paged: true });
  });

  test('given nothing, when a rule says oncall and pager, then the rule\'s schedule answers and one pager alert has the message alias, link and requester', () => {
    const input = slackMessage(TS, { text: `${BOT_MENTION}   checkout is DOWN for everyone`, user: ALICE });
    const { events } = given(rules)
      .when(input)
      .then([
        ['IncidentOpened', { incidentId: incident, pager: { priority: 'P2' }, rule: { path: 'rules[1]', name: 'urgent-requests' } }],
        ['ReplyWithOnCall', { schedule: 'sre_primary', threadTs: TS }],
        ['CreatePagerAlert', { incidentId: incident, priority: 'P2', tags: ['slack', 'urgent'], message: 'checkout is DOWN for everyone', source: 'alertbus/slack' }, M],
        ['SlackThreadLinked', { alias: M }, threadKey(CHANNEL, TS)],
      ]);
    const page = events[2]!.data as { description: string; details: Record<string, string> };
    expect(page.description).toContain('checkout is DOWN for everyone');
    expect(page.description).toContain(`Requested in Slack by ${ALICE}`);
    expect(page.description).toContain('https://acme.slack.com/archives/C0OPS/p1700000000000100');
    expect(page.details).toMatchObject({ alertbus_alias: M, alertbus_incident: incident, slack_user: ALICE, slack_channel: CHANNEL });
  });

  test('a DM is treated like a mention; a reply in a thread is answered in that thread', () => {
    const dm = slackMessage(TS, { kind: 'dm', channel: 'D0DM', channelType: 'im', text: 'who is on call?' });
    given(builtin)
      .when(dm)
      .then([
        ['IncidentOpened', { source: 'slack', labels: { kind: 'dm', channel: 'D0DM', channel_type: 'im' }, title: 'who is on call?' }],
        ['ReplyWithOnCall', { channel: 'D0DM', threadTs: TS, schedule: 'ops' }],
        ['SlackThreadLinked', {}, threadKey('D0DM', TS)],
      ]);
    const reply = slackMessage('1700000000.000200', { threadTs: TS });
    given(builtin)
      .when(reply)
      .then([
        // Via the root's key, which holds no request to join.
        ['SlackMessageReceived', {}, M],
        ['SlackMessageReceived', {}],
        ['IncidentOpened', {}],
        ['ReplyWithOnCall', { channel: CHANNEL, threadTs: TS }],
        ['SlackThreadLinked', {}, threadKey(CHANNEL, TS)],
      ]);
  });

  test('given a paged request, when it is edited, then the incident is updated and the pager gets a note: no reply, no new alert', () => {
    const g = given(rules, slackMessage(TS, { text: `${BOT_MENTION} the database is down` }));
    const edit = slackMessage(TS, { kind: 'edit', channelType: 'channel', text: `${BOT_MENTION} the database is down in eu-west-1`, previousText: `${BOT_MENTION} the database is down`, at: 60_000 });
    g.when(edit).then([
      ['IncidentUpdated', { incidentId: incident, reason: 'updated', title: 'the database is down in eu-west-1', changes: { text: `${BOT_MENTION} the database is down in eu-west-1` } }],
      ['AddPagerNote', { incidentId: incident, note: expect.stringContaining('the database is down in eu-west-1') }, M],
    ]);
    expect(g.sim.incident(M)).toMatchObject({ title: 'the database is down in eu-west-1', slackRequest: { text: `${BOT_MENTION} the database is down in eu-west-1` } });
    // The same edit delivered again, or an edit that did not change the text (a link preview): recorded, nothing else.
    g.when(slackMessage(TS, { ...edit.data, delivery: 1, at: 61_000 })).then([['EventSuppressed', { reason: 'unchanged', incidentId: incident }]]);
    g.when(slackMessage(TS, { kind: 'edit', text: 'x', previousText: 'x', delivery: 2, at: 62_000 })).then([['EventSuppressed', { reason: 'unchanged' }]]);
  });

  test('given a request, when it is deleted, then the deletion is recorded (and told to the pager) once', () => {
    const g = given(rules, slackMessage(TS, { text: `${BOT_MENTION} the database is down` }));
    const del = slackMessage(TS, { kind: 'delete', text: '', previousText: `${BOT_MENTION} the database is down`, at: 60_000 });
    g.when(del).then([
      ['IncidentUpdated', { incidentId: incident, changes: { deleted: true }, status: 'open' }],
      ['AddPagerNote', { note: 'The Slack message was deleted.' }, M],
    ]);
    g.when(slackMessage(TS, { ...del.data, delivery: 1, at: 61_000 })).then([['EventSuppressed', { reason: 'duplicate', incidentId: incident }]]);
    g.when(slackMessage(TS, { kind: 'edit', text: 'edited after delete', delivery: 2, at: 62_000 })).then([['EventSuppressed', { reason: 'unchanged' }]]);
  });

  test('edits and deletes of messages that are no incident are recorded and change nothing', () => {
    given(builtin).when(slackMessage(TS, { kind: 'edit', text: 'new', previousText: 'old' })).then([['EventSuppressed', { reason: 'no-incident' }]]);
    given(builtin).when(slackMessage(TS, { kind: 'delete', text: '' })).then([['EventSuppressed', { reason: 'no-incident' }]]);
    const help = slackMessage(TS, { text: `${BOT_MENTION} help` });
    given(builtin, help).when(slackMessage(TS, { kind: 'edit', text: `${BOT_MENTION} helpp`, at: 1 })).then([['EventSuppressed', { reason: 'no-incident' }]]);
  });

  test('a plain channel message is not addressed to the app; its app_mention twin, arriving later, still opens the incident', () => {
    const plain = slackMessage(TS, { kind: 'message', channelType: 'channel' });
    const g = given(builtin);
    g.when(plain).then([['EventSuppressed', { reason: 'not-addressed' }]]);
    g.when(slackMessage(TS, { delivery: 1, at: 10 })).then([['IncidentOpened', {}], ['ReplyWithOnCall', {}], ['SlackThreadLinked', {}, threadKey(CHANNEL, TS)]]);
  });

  test.each([
    ['another app\'s message is dropped', { botId: 'B0OTHER', user: undefined }, 'bot-message'],
    ['a drop rule drops', { channel: 'C0RANDOM' }, 'dropped-by-rule'],
  ] as const)('%s', (_name, init, reason) => {
    given(rules).when(slackMessage(TS, init)).then([['EventSuppressed', { reason }]]);
  });

  test('a rule with allow_bots: true lets another app\'s message through', () => {
    given(rules)
      .when(slackMessage(TS, { botId: 'B0DEPLOY', user: undefined, channel: 'C0DEPLOY', text: `${BOT_MENTION} deploy failed` }))
      .then([
        ['IncidentOpened', { rule: { name: 'bots-in-deploys' }, labels: { user: 'B0DEPLOY' } }],
        ['ReplyWithOnCall', { schedule: 'ops' }],
        ['SlackThreadLinked', {}, threadKey('C0DEPLOY', TS)],
      ]);
  });

  test('a request longer than the pager takes (Slack allows 40,000 characters) still pages: its text is cut, who asked and where are kept', () => {
    const long = `${BOT_MENTION} checkout is DOWN for everyone ${'x'.repeat(39_000)}`;
    const { events } = decideSlackMessage(slackMessage(TS, { text: long }), undefined, rules);
    events.forEach((e) => expect(() => assertValid(e)).not.toThrow());
    const page = events.find((e) => e.type === 'CreatePagerAlert')?.data as { description: string } | undefined;
    expect(page).toBeDefined();
    expect(codePoints(page!.description)).toBeLessThanOrEqual(PAGER_LIMITS.description);
    expect(page!.description).toMatch(/^checkout is DOWN for everyone x+…\n\nRequested in Slack by U0ALICE in channel C0OPS\.\nMessage: https:/);
  });

  test('oncall: { enabled: false } opens the incident without a reply; no schedule at all says so in the thread', () => {
    given(rules)
      .when(slackMessage(TS, { channel: 'C0QUIET' }))
      .then([['IncidentOpened', { rule: { name: 'quiet-channel' } }], ['SlackThreadLinked', {}, threadKey('C0QUIET', TS)]]);
    given(builtinNoSchedule)
      .when(slackMessage(TS))
      .then([['IncidentOpened', {}], ['PostSlackReply', { text: NO_SCHEDULE_TEXT, threadTs: TS }], ['SlackThreadLinked', {}, threadKey(CHANNEL, TS)]]);
  });
});

describe('Slack messages: commands by mention', () => {
  const cmd = (text: string, init: Parameters<typeof slackMessage>[1] = {}) => slackMessage(TS, { text: `${BOT_MENTION} ${text}`, ...init });

  test('help answers with the commands, once however often Slack delivers it', () => {
    const g = given(builtin);
    g.when(cmd('help')).then([
      ['EventSuppressed', { reason: 'command' }],
      ['PostSlackReply', { channel: CHANNEL, threadTs: TS, text: expect.stringContaining('`oncall [schedule]`') }],
    ]);
    expect(g.sim.states.get(M)).toMatchObject({ kind: 'slack-command', command: 'help' });
    g.when(cmd('help', { delivery: 1, retryNum: 1, at: 3_000 })).then([['EventSuppressed', { reason: 'duplicate' }]]);
  });

  test('oncall asks for the rule\'s schedule, or the one named', () => {
    given(builtin).when(cmd('oncall')).then([['EventSuppressed', { reason: 'command' }], ['ReplyWithOnCall', { schedule: 'ops', requester: ALICE, threadTs: TS }]]);
    given(builtin).when(cmd('oncall db_primary')).then([['EventSuppressed', {}], ['ReplyWithOnCall', { schedule: 'db_primary' }]]);
    // Asked for explicitly, the on-call answers even where the rule turned the automatic reply off…
    given(rules).when(cmd('oncall', { channel: 'C0QUIET' })).then([['EventSuppressed', {}], ['ReplyWithOnCall', { schedule: 'ops' }]]);
    // …and with no schedule anywhere, the reply says so.
    given(builtinNoSchedule).when(cmd('oncall')).then([['EventSuppressed', {}], ['PostSlackReply', { text: NO_SCHEDULE_TEXT }]]);
  });

  test('cache clear empties the cache (all of it, or one schedule\'s)', () => {
    given(builtin).when(cmd('cache clear')).then([['EventSuppressed', { reason: 'command' }], ['ClearOnCallCache', { requestedBy: ALICE, channel: CHANNEL, threadTs: TS }]]);
    const { events } = given(builtin).when(cmd('cache clear ops')).then([['EventSuppressed', {}], ['ClearOnCallCache', { schedule: 'ops' }]]);
    expect(events[1]!.data).not.toHaveProperty('incidentId');
  });

  test('ack / resolve outside a thread say where they work; inside one they go to the thread\'s record', () => {
    given(builtin).when(cmd('ack')).then([['EventSuppressed', { reason: 'command' }], ['PostSlackReply', { text: notInThreadText('ack') }]]);
    given(builtin)
      .when(cmd('resolve', { threadTs: '1699999999.000001' }))
      .then([
        ['EventSuppressed', { reason: 'command' }],
        ['SlackTextCommandReceived', { command: 'resolve', channel: CHANNEL, threadTs: '1699999999.000001', messageTs: TS, messageAlias: M, user: ALICE }, threadKey(CHANNEL, '1699999999.000001')],
        ['EventSuppressed', { reason: 'no-incident' }, threadKey(CHANNEL, '1699999999.000001')],
        ['PostSlackReply', { threadTs: '1699999999.000001' }, threadKey(CHANNEL, '1699999999.000001')],
      ]);
  });

  test('commands are subject to the rules too: a bot cannot run them, a drop rule silences them', () => {
    given(rules).when(cmd('help', { botId: 'B0OTHER', user: undefined })).then([['EventSuppressed', { reason: 'bot-message' }]]);
    given(rules).when(cmd('help', { channel: 'C0RANDOM' })).then([['EventSuppressed', { reason: 'dropped-by-rule' }]]);
  });
});
