/** The rules file's `commands:` as specifications: the workspace's own commands first, then the built-ins, then the default. */
import { messageNotifications } from '@alertbus/stand-ins';
import { builtinRules, compileRules } from '../rules/compile';
import type { CompiledRules } from '../rules/types';
import { rulesFrom } from '../test-support/scenario';
import { given } from '../test-support/slack-spec';
import { ALICE, BOB, BOT_MENTION, CHANNEL, messageAlias, slackMessage } from '../test-support/slack';
import { isSingleWord, matchHandler, NOT_UNDERSTOOD_TEXT, renderReply } from './custom-commands';

const rules = rulesFrom('rules.permissions.yaml');
const builtin = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });

function compiled(yaml: string): CompiledRules {
  const r = compileRules(yaml, 't.yaml', { defaultChannel: '#alerts', oncallSchedule: 'ops' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
}

let n = 0;
const say = (text: string, init: Parameters<typeof slackMessage>[1] = {}) => slackMessage(`1700000300.${String(++n).padStart(6, '0')}`, { text: `${BOT_MENTION} ${text}`, ...init });

describe('which command a text is: the first handler that matches the whole text', () => {
  test.each([
    ['runbook checkout', 'runbook', { service: 'checkout' }],
    ['RUNBOOK checkout', 'runbook', { service: 'checkout' }],
    ['deploy api to prod', 'deploy', { service: 'api', env: 'prod' }],
    ['status', 'status', { service: '' }],
    ['status api', 'status', { service: 'api' }],
  ])('%s → %s', (text, name, groups) => {
    const m = matchHandler(rules, text);
    expect(m?.handler.name).toBe(name);
    expect(m?.groups).toEqual(groups);
  });

  test.each(['runbook', 'deploy api to qa', 'please runbook checkout', 'help', 'ack'])('%s matches none (patterns are anchored)', (text) => {
    expect(matchHandler(rules, text)).toBeUndefined();
  });
});

describe('reply:', () => {
  test('given a handler with a reply template, when its pattern matches, then the reply answers in the thread with the groups', () => {
    const m = say('runbook checkout');
    given(rules)
      .when(m)
      .then([
        ['EventSuppressed', { reason: 'command', rule: { path: 'commands.handlers[0]', name: 'runbook' } }],
        ['PostSlackReply', { channel: CHANNEL, threadTs: m.data.ts, text: `Runbook of *checkout*: https://runbooks.example.com/checkout (for <@${ALICE}>)` }],
      ]);
  });

  test('what the sender typed is data: escaped, it pings nobody and carries no markup', () => {
    const { events } = given(rules).when(say('echo <!channel> &lt;b&gt; <@U0BOB> <https://evil.example|click>')).then([['EventSuppressed', {}], ['PostSlackReply', {}]]);
    const text = (events[1]!.data as { text: string }).text;
    expect(messageNotifications({ text })).toEqual([]);
    expect(text).not.toMatch(/<[!@#]/);
    // Shown as typed: Slack's own escapes undone, then escaped once.
    expect(text).toBe('You said: &lt;!channel&gt; &lt;b&gt; &lt;@U0BOB&gt; &lt;https://evil.example|click&gt;');
  });

  test('a reply cut at its limit never ends in half an escape (`&lt` without its `;`)', () => {
    // The template's own text fills the reply up to where the escaped group's entities fall at the cut.
    const text = renderReply(`${'x'.repeat(2_990)}{{q}}`, { q: '<<<<' }, undefined);
    expect(Array.from(text).length).toBeLessThanOrEqual(3_000);
    expect(text).toMatch(/x(&lt;)+…$/);
  });

  test('the built-ins still answer after the handlers: help lists the workspace\'s commands too', () => {
    const { events } = given(rules).when(say('help')).then([['EventSuppressed', { reason: 'command' }], ['PostSlackReply', {}]]);
    const text = (events[1]!.data as { text: string }).text;
    expect(text).toContain('• `runbook` — runbook &lt;service&gt;: the link to its runbook');
    expect(text).toContain('• `deploy` — `deploy (?P<service>\\S+) to (?P<env>prod|staging)`');
    expect(text).toContain('`oncall [schedule]`');
    expect(text).toContain('Anything else gets this list.');
  });
});

describe('webhook: and command:', () => {
  test('a webhook handler hands the request to the slack-sink: where, how long, and what was asked', () => {
    const m = say('status api');
    given(rules)
      .when(m)
      .then([
        ['EventSuppressed', { reason: 'command' }],
        [
          'CallCommandWebhook',
          {
            channel: CHANNEL,
            threadTs: m.data.ts,
            url: 'https://status.example.com/alertbus?key=s3cret',
            timeoutMs: 3_000,
            request: { command: 'status', text: 'status api', groups: { service: 'api' }, user: ALICE, team: m.data.team, channel: CHANNEL, messageTs: m.data.ts },
          },
        ],
      ]);
  });

  test('a command handler writes a request for other systems, under the message\'s alias; its role is checked first', () => {
    const m = say('deploy api to prod', { user: BOB });
    given(rules)
      .when(m)
      .then([
        ['EventSuppressed', { reason: 'command' }],
        ['CustomCommandRequested', { name: 'deploy', groups: { service: 'api', env: 'prod' }, user: BOB, channel: CHANNEL, threadTs: m.data.ts }],
      ]);
    given(rules)
      .when(say('deploy api to prod'))
      .then([
        ['EventSuppressed', { reason: 'not-permitted', refused: { action: 'command', user: ALICE, role: 'viewer', needed: 'operator' } }],
        ['PostSlackEphemeral', { user: ALICE }],
      ]);
  });

  test('a redelivered message is the same request: one CustomCommandRequested', () => {
    const m = say('deploy api to staging', { user: BOB });
    const g = given(rules, m);
    g.when(slackMessage(m.data.ts, { text: m.data.text, user: BOB, delivery: 1 })).then([['EventSuppressed', { reason: 'duplicate' }]]);
    expect(messageAlias(m.data.ts)).toBe(m.alias);
  });
});

describe('commands.default: what a message that matches nothing does', () => {
  test('help: an unknown word gets the help, not a page', () => {
    const { events } = given(rules).when(say('frobnicate')).then([['EventSuppressed', { reason: 'not-understood' }], ['PostSlackReply', {}]]);
    expect((events[1]!.data as { text: string }).text).toMatch(/^I didn't understand that\. Mention me with one of:/);
    given(rules).when(say('the database is down')).then([['EventSuppressed', { reason: 'not-understood' }], ['PostSlackReply', {}]]);
  });

  test('ignore: nothing is said, nothing opened', () => {
    given(compiled('commands: { default: ignore }\n')).when(say('the database is down')).then([['EventSuppressed', { reason: 'not-understood' }]]);
  });

  test('oncall (the default): a request opens an incident as before, but a single unknown word is answered, not paged', () => {
    const m = say('the database is down');
    given(builtin).when(m).then([['IncidentOpened', {}], ['ReplyWithOnCall', {}], ['SlackThreadLinked', {}, `slack-thread:${CHANNEL}:${m.data.ts}`]]);
    given(builtin).when(say('frobnicate')).then([['EventSuppressed', { reason: 'not-understood' }], ['PostSlackReply', { text: NOT_UNDERSTOOD_TEXT }]]);
  });

  test.each([
    ['frobnicate', true],
    ['Übersicht', true],
    ['re-deploy', true],
    ['help!', false],
    ['db down', false],
    ['', false],
  ])('%j is a single word: %s', (text, single) => {
    expect(isSingleWord(text)).toBe(single);
  });
});
