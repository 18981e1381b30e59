/** `permissions:` and `commands:` of the rules file: what compiles, and what a wrong entry is told. */
import { compileRules } from './compile';
import { rulesFrom } from '../test-support/scenario';

const opts = { defaultChannel: '#alerts' };
const problemsOf = (yaml: string) => {
  const r = compileRules(yaml, 'c.yaml', opts);
  if (r.ok) throw new Error('expected the file to be refused');
  return r.message;
};

describe('permissions:', () => {
  test('compiles to a default, users and groups (handles without @, lower case); absent stays absent', () => {
    const r = rulesFrom('rules.permissions.yaml');
    expect(r.permissions).toEqual({
      default: 'viewer',
      users: { U0BOB: 'operator', U0CAROL: 'admin' },
      groups: { sre: 'operator', 'oncall-leads': 'admin' },
    });
    const none = compileRules('rules: []\n', 'n.yaml', opts);
    expect(none.ok && none.rules.permissions).toBeUndefined();
  });

  test('an unknown role or something that is not a Slack user id is refused with its line', () => {
    const message = problemsOf('permissions:\n  default: root\n  users:\n    alice: admin\n');
    expect(message).toContain('c.yaml:2:12: permissions.default: must be one of "viewer", "operator", "admin"');
    expect(message).toContain('c.yaml:4:12: permissions.users.alice: is not a Slack user id');
  });
});

describe('commands:', () => {
  test('compiles the handlers in order, with their action, and the default', () => {
    const r = rulesFrom('rules.permissions.yaml');
    expect(r.commands.default).toBe('help');
    expect(r.commands.handlers.map((h) => [h.path, h.name, h.action.kind, h.role])).toEqual([
      ['commands.handlers[0]', 'runbook', 'reply', undefined],
      ['commands.handlers[1]', 'deploy', 'command', 'operator'],
      ['commands.handlers[2]', 'status', 'webhook', undefined],
      ['commands.handlers[3]', undefined, 'reply', undefined],
    ]);
    expect(r.commands.handlers[2]!.action).toEqual({ kind: 'webhook', url: 'https://status.example.com/alertbus?key=s3cret', timeoutMs: 3_000 });
    const none = compileRules('rules: []\n', 'n.yaml', opts);
    expect(none.ok && none.rules.commands).toEqual({ default: 'oncall', handlers: [] });
  });

  test.each([
    ['a regex RE2 refuses', "    - pattern: '(?=x)y'\n      reply: hi\n", /c\.yaml:3:16: commands\.handlers\[0\]\.pattern: bad regex: .*no lookaround/],
    ['a regex too large to compile quickly', `    - pattern: '${'\\pL{1000}'.repeat(3)}'\n      reply: hi\n`, /commands\.handlers\[0\]\.pattern: the regex is too complex/],
    ['a placeholder the pattern does not have', "    - pattern: 'x (?P<a>\\w+)'\n      reply: '{{b}}'\n", /commands\.handlers\[0\]\.reply: unknown placeholder \{\{b\}\}: the pattern has no group \(\?P<b>…\) \(known: \{\{a\}\}, \{\{user\}\}\)/],
    ['two actions', "    - pattern: x\n      reply: hi\n      command: { name: x }\n", /commands\.handlers\[0\]: needs exactly one of reply, webhook, command \(has reply, command\)/],
    ['no action', '    - pattern: x\n', /commands\.handlers\[0\]: needs exactly one of reply, webhook, command \(has none\)/],
    ['a webhook timeout over 30 s', "    - pattern: x\n      webhook: { url: 'https://h/x', timeout: 2m }\n", /commands\.handlers\[0\]\.webhook\.timeout: must be more than 0 and at most 30s/],
    ['a webhook timeout too long to count (it was taken as unset: 3 s)', "    - pattern: x\n      webhook: { url: 'https://h/x', timeout: 99999999999999999999s }\n", /commands\.handlers\[0\]\.webhook\.timeout: must be more than 0 and at most 30s/],
    ['a webhook that is not http(s)', "    - pattern: x\n      webhook: { url: 'file:///etc/passwd' }\n", /commands\.handlers\[0\]\.webhook\.url: must match pattern/],
  ])('%s is refused, with where and why', (_name, entry, expected) => {
    expect(problemsOf(`commands:\n  handlers:\n${entry}`)).toMatch(expected);
  });

  test('an unknown default is refused', () => {
    expect(problemsOf('commands:\n  default: page\n')).toContain('commands.default: must be one of "oncall", "help", "ignore"');
  });
});
