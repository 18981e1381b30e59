/** Mentions that name or join an incident: `ack <alias>` typed after a mention, and a mention in a request's thread. */
import type { CompiledRules } from '../rules/types';
import { compileRules } from '../rules/compile';
import { given } from '../test-support/slack-spec';
import { ALICE, BOB, BOT_MENTION, CHANNEL, messageAlias, slackMessage } from '../test-support/slack';
import { parseCommand } from './commands';
import { joinedText, otherIncidentText } from './texts';
import { threadKey } from './thread-key';

/** Every Slack request pages: a mention misread as a request would page someone. */
function pagingRules(): CompiledRules {
  const r = compileRules(
    'defaults:\n  oncall: { schedule: ops }\nrules:\n  - name: slack-requests\n    match: [\'source="slack"\']\n    pager: { priority: P3 }\n',
    't.yaml',
    { defaultChannel: '#alerts', slashCommand: '/alertbus' },
  );
  if (!r.ok) throw new Error(r.message);
  return r.rules;
}

const rules = pagingRules();
const ROOT = '1700000000.000100';
const LATER = '1700000100.000200';
const R = messageAlias(ROOT);

describe('`ack <alias>` / `resolve <alias>` by mention: read as the command, never as a request', () => {
  test.each(['ack alertmanager:r2bbbb0000000002', 'acknowledge alertmanager:r2bbbb0000000002', 'ACK 01JABCDEF', 'resolve alertmanager:r2bbbb0000000002'])(
    'parses %s as the command with its target',
    (text) => {
      const cmd = parseCommand(`${BOT_MENTION} ${text}`);
      expect(cmd.name).toBe(text.toLowerCase().startsWith('resolve') ? 'resolve' : 'ack');
      expect(cmd).toHaveProperty('target', text.split(' ')[1]);
    },
  );

  test('given rules that page every Slack request, when `@alertbus ack <alias>` is said in the channel, then nothing opens, nobody is paged, the mention is told how', () => {
    const { sim } = given(rules)
      .when(slackMessage(LATER, { text: `${BOT_MENTION} ack alertmanager:r2bbbb0000000002` }))
      .then([
        ['EventSuppressed', { reason: 'command' }],
        ['PostSlackReply', { channel: CHANNEL, threadTs: LATER, text: otherIncidentText('ack', '/alertbus') }],
      ]);
    expect(sim.incident(messageAlias(LATER))).toBeUndefined();
    expect(otherIncidentText('ack', '/alertbus')).toContain('`/alertbus ack &lt;alias&gt;`');
  });

  test('`resolve <alias>` in another incident\'s thread does not touch that thread\'s incident either', () => {
    given(rules)
      .when(slackMessage(LATER, { text: `${BOT_MENTION} resolve alertmanager:r2bbbb0000000002`, threadTs: '1699999999.000001' }))
      .then([
        ['EventSuppressed', { reason: 'command' }],
        ['PostSlackReply', { threadTs: '1699999999.000001', text: otherIncidentText('resolve', '/alertbus') }],
      ]);
  });

  test.each([['bare', 'ack'], ['naming the request itself', `ack ${R}`]])('given a paged request, `ack` (%s) in its thread still acknowledges it', (_, text) => {
    const g = given(rules, slackMessage(ROOT, { text: `${BOT_MENTION} checkout is slow` }));
    const sim = g.sim;
    const events = sim.run(slackMessage(LATER, { text: `${BOT_MENTION} ${text}`, threadTs: ROOT, user: BOB }));
    const types = events.map((e) => e.type);
    expect(types).toContain('SlackTextCommandReceived');
    expect(types).toContain('IncidentAcknowledged');
    expect(types).not.toContain('IncidentOpened');
    expect(types).not.toContain('CreatePagerAlert');
    expect(sim.incident(R)).toMatchObject({ status: 'acknowledged' });
  });
});

describe('a mention in a request\'s thread joins that request', () => {
  const request = slackMessage(ROOT, { text: `${BOT_MENTION} checkout is slow` });
  const ack = slackMessage('1700000050.000100', { text: `${BOT_MENTION} ack`, threadTs: ROOT, user: BOB });
  const more = (init: Parameters<typeof slackMessage>[1] = {}) =>
    slackMessage(LATER, { text: `${BOT_MENTION} also the cart page is slow`, threadTs: ROOT, user: BOB, ...init });

  test('given an acknowledged, paged request, when someone mentions the app in its thread, then a note on it and on its pager alert, no second incident or page', () => {
    const g = given(rules, request, ack);
    const I = g.sim.incident(R)!.incidentId;
    expect(g.sim.incident(R)).toMatchObject({ status: 'acknowledged', paged: true });
    const { sim } = g.when(more()).then([
      ['SlackMessageReceived', { ts: LATER, threadTs: ROOT }, R],
      ['IncidentUpdated', { incidentId: I, status: 'acknowledged', changes: { threadMessage: { ts: LATER, user: BOB, text: `${BOT_MENTION} also the cart page is slow` } } }, R],
      ['AddPagerNote', { incidentId: I, note: `Added in the Slack thread by ${BOB}:\nalso the cart page is slow` }, R],
      ['PostSlackReply', { incidentId: I, channel: CHANNEL, threadTs: ROOT, text: joinedText(true) }, R],
    ]);
    expect(sim.incident(messageAlias(LATER))).toBeUndefined();
    expect(sim.incident(R)).toMatchObject({ incidentId: I, status: 'acknowledged' });
    // Slack's redeliveries of the mention meet what the first left: nothing is added twice.
    g.when(more({ delivery: 1 })).then([['EventSuppressed', { reason: 'duplicate' }]]);
  });

  test('a request not paged gets the note without a pager note', () => {
    const quiet = compileRules('defaults:\n  oncall: { schedule: ops }\n', 't.yaml', { defaultChannel: '#alerts' });
    if (!quiet.ok) throw new Error(quiet.message);
    given(quiet.rules, request)
      .when(more())
      .then([
        ['SlackMessageReceived', {}, R],
        ['IncidentUpdated', { changes: { threadMessage: { ts: LATER, user: BOB, text: `${BOT_MENTION} also the cart page is slow` } } }, R],
        ['PostSlackReply', { threadTs: ROOT, text: joinedText(false) }, R],
      ]);
  });

  test('in the thread of a message that is no request, or of a resolved request, a mention still opens its own incident', () => {
    const M = messageAlias(LATER);
    const plainThread = given(rules).when(more({ user: ALICE })).then([
      ['SlackMessageReceived', {}, R],
      ['SlackMessageReceived', {}, M],
      ['IncidentOpened', { source: 'slack', slackRequest: { threadTs: ROOT, ts: LATER } }, M],
      ['ReplyWithOnCall', { threadTs: ROOT }, M],
      ['CreatePagerAlert', { priority: 'P3' }, M],
      ['SlackThreadLinked', { alias: M }, threadKey(CHANNEL, ROOT)],
    ]);
    expect(plainThread.sim.incident(M)).toMatchObject({ status: 'open' });

    const resolve = slackMessage('1700000050.000100', { text: `${BOT_MENTION} resolve`, threadTs: ROOT, user: BOB });
    const afterResolve = given(rules, request, resolve);
    expect(afterResolve.sim.incident(R)).toMatchObject({ status: 'resolved' });
    afterResolve.when(more()).then([
      ['SlackMessageReceived', {}, R],
      ['SlackMessageReceived', {}, M],
      ['IncidentOpened', { slackRequest: { threadTs: ROOT, ts: LATER } }, M],
      ['ReplyWithOnCall', { threadTs: ROOT }, M],
      ['CreatePagerAlert', { priority: 'P3' }, M],
      ['SlackThreadLinked', { alias: M }, threadKey(CHANNEL, ROOT)],
    ]);
  });
});
