import { builtinRules, compileRules } from '../rules/compile';
import type { CompiledRules, RoutableSlackMessage } from '../rules/types';
import { rulesFrom } from '../test-support/scenario';
import { routeSlackMessage, type SlackRoute } from './route';

const msg = (channel: string, text: string, labels: Record<string, string> = {}, user = 'U0ALICE'): RoutableSlackMessage => ({
  kind: 'slack-message',
  channel,
  user,
  text,
  labels: { kind: 'mention', channel_type: 'unknown', team: 'T0', ...labels },
});

function compile(yaml: string, oncallSchedule?: string): CompiledRules {
  const r = compileRules(yaml, 'inline.yaml', { defaultChannel: '#alerts', ...(oncallSchedule ? { oncallSchedule } : {}) });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
}

const slackRules = rulesFrom('rules.slack.yaml');

describe('routeSlackMessage: what the rules say about a Slack message', () => {
  test.each<[name: string, rules: CompiledRules, input: RoutableSlackMessage, want: Partial<SlackRoute>, paged: boolean]>([
    ['no rules file: the on-call of ONCALL_SCHEDULE, no page', builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' }), msg('C1', 'db is down'), { oncall: 'ops', drop: false }, false],
    ['no rules file, no ONCALL_SCHEDULE: no schedule (the reply says so)', builtinRules({ defaultChannel: '#alerts' }), msg('C1', 'hi'), { oncallDisabled: false }, false],
    ['defaults.oncall of the file', slackRules, msg('C1', 'hi'), { oncall: 'ops', rule: expect.objectContaining({ path: 'defaults' }) }, false],
    ['a rule with oncall and pager', slackRules, msg('C1', 'checkout is down'), { oncall: 'sre_primary', pager: { priority: 'P2', tags: ['slack', 'urgent'], responders: [] } }, true],
    ['oncall: { enabled: false }', slackRules, msg('C0QUIET', 'hi'), { oncallDisabled: true }, false],
    ['drop', slackRules, msg('C0RANDOM', 'hi'), { drop: true, rule: expect.objectContaining({ name: 'ignore-random' }) }, false],
    ['allow_bots', slackRules, msg('C0DEPLOY', 'deploy failed', { bot_id: 'B0X' }, 'B0X'), { allowBots: true, oncall: 'ops' }, false],
    ['bots are not allowed elsewhere', slackRules, msg('C1', 'hi', { bot_id: 'B0X' }, 'B0X'), { allowBots: false }, false],
    ['an alert rule (labels) does not match a Slack message', slackRules, msg('C1', 'team db?'), { rule: expect.objectContaining({ path: 'defaults' }) }, false],
  ])('%s', (_name, rules, input, want, paged) => {
    const r = routeSlackMessage(rules, input);
    expect(r).toMatchObject(want);
    expect(r.pager !== undefined).toBe(paged);
  });

  test('the defaults\' pager never pages a mention; a rule\'s own pager section does, the rest of it from the defaults', () => {
    const rules = compile(`
defaults:
  pager: { enabled: true, priority: P1, responders: [{ type: team, name: ops }] }
rules:
  - name: pages
    match: ['source="slack"', 'channel="C0SEV"']
    pager: { tags: [sev] }
`);
    expect(routeSlackMessage(rules, msg('C1', 'hi')).pager).toBeUndefined();
    expect(routeSlackMessage(rules, msg('C0SEV', 'hi')).pager).toEqual({ priority: 'P1', tags: ['sev'], responders: [{ type: 'team', name: 'ops' }] });
  });

  test('a catch-all rule with a pager pages mentions too, unless it says source!="slack" (the README\'s advice)', () => {
    const catchAll = compile(`rules: [{ name: all, pager: { priority: P3 } }]`);
    const guarded = compile(`rules: [{ name: alerts-only, match: ['source!="slack"'], pager: { priority: P3 } }]`);
    expect(routeSlackMessage(catchAll, msg('C1', 'hi')).pager).toBeDefined();
    expect(routeSlackMessage(guarded, msg('C1', 'hi')).pager).toBeUndefined();
  });

  test('nested rules inherit oncall and allow_bots; the first rule of a continue chain with oncall decides', () => {
    const rules = compile(
      `
rules:
  - name: support
    match: ['source="slack"']
    oncall: { schedule: support }
    allow_bots: true
    continue: true
    routes:
      - name: support-eu
        match: ['channel=~"C0EU.*"']
  - name: second
    match: ['source="slack"']
    oncall: { schedule: ignored }
`,
      'env_schedule',
    );
    expect(routeSlackMessage(rules, msg('C0EU1', 'hi', { bot_id: 'B1' }, 'B1'))).toMatchObject({
      oncall: 'support',
      allowBots: true,
      rule: { path: 'rules[0].routes[0],rules[1]' },
    });
  });

  test('ONCALL_SCHEDULE is the last fallback, and part of the built-in rules\' version', () => {
    expect(compile('rules: []', 'env_schedule').defaults.oncall).toEqual({ enabled: true, schedule: 'env_schedule' });
    expect(compile('defaults: { oncall: { schedule: file } }', 'env_schedule').defaults.oncall.schedule).toBe('file');
    expect(builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'a' }).version).not.toBe(builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'b' }).version);
    expect(builtinRules({ defaultChannel: '#alerts' }).version).toBe(builtinRules({ defaultChannel: '#alerts' }).version);
  });
});
