/** Mentions that name or join an incident: `ack <alias>` typed after a mention, and a mention in a request's thread. */
import type { CompiledRules } from '../rules/types';
import { compileRules } from '../rules/compile';
import { given } from '../test-support/slack-spec';
import { BOB, BOT_MENTION, CHANNEL, messageAlias, slackMessage } from '../test-support/slack';
import { parseCommand } from './commands';
import { otherIncidentText } from './texts';
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
    expect(otherIncidentText('ack', '/alertbus')).toContain('`/alertbus ack <alias>`');
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
