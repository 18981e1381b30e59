/** `alertbus rules check | test | schema`, run in-process: the router's own messages, explanations from real webhook samples. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firing } from '@alertbus/routing/src/test-support/alerts';
import { buildProgram } from '../program';
import { parseInstant, unescapeSlack } from './rules';

const root = path.resolve(__dirname, '../../..');
const fixtures = path.resolve(root, '../shared/fixtures');
const testdata = (name: string) => path.join(root, 'packages/routing/testdata', name);

async function run(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += c.toString()), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += c.toString()), true));
  process.exitCode = 0;
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'alertbus', ...args]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { stdout, stderr, code };
}

test('check: a valid file prints its version; an invalid one every problem with its line, exit 1', async () => {
  const ok = await run('rules', 'check', testdata('rules.nested.yaml'));
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/rules\.nested\.yaml: OK \(rules version [0-9a-f]{64}; 4 top-level rules/);
  const bad = await run('rules', 'check', testdata('rules.invalid.yaml'));
  expect(bad.code).toBe(1);
  expect(bad.stderr.trim().split('\n')).toHaveLength(6);
  expect(bad.stderr).toContain('rules.invalid.yaml:10:24: rules[2].pager.priority: must be one of "P1", "P2", "P3", "P4", "P5"');
  const json = await run('rules', 'check', testdata('rules.invalid.yaml'), '--json');
  expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: expect.arrayContaining([{ line: 12, col: 5, path: 'rules[3].slak', message: expect.stringContaining('unknown field') }]) });
});

test('check: an empty or comments-only file is refused, naming the file (a truncated file would wipe every rule)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rules-cli-'));
  const empty = path.join(dir, 'rules.yaml');
  writeFileSync(empty, '# routing rules\n\n');
  const r = await run('rules', 'check', empty);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain(`${empty} is empty: no rules; the previous rules stay in force`);
  const json = await run('rules', 'check', empty, '--json');
  expect(json.code).toBe(1);
  expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: [{ path: '(file)', message: expect.stringContaining('is empty') }] });
  const stated = path.join(dir, 'none.yaml');
  writeFileSync(stated, 'rules: []\n');
  expect(await run('rules', 'check', stated)).toMatchObject({ code: 0, stdout: expect.stringContaining('OK') });
});

test("check: a single-quoted matcher value is refused with its line and how to write it (it would never match)", async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'rules-cli-')), 'rules.yaml');
  writeFileSync(file, `rules:\n  - name: databases\n    match: ["team='db'"]\n    slack: { channel: "#db" }\n`);
  const r = await run('rules', 'check', file);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${file}:3:13: rules[0].match[0]: bad matcher "team='db'": single quotes would be part of the value; write team=db or team="db"`);
});

test('test --alert with an Alertmanager webhook: every alert, the rules looked at, and what would be sent', async () => {
  const r = await run('rules', 'test', testdata('rules.basic.yaml'), '--alert', path.join(fixtures, 'alertmanager/zulip_firing_two_alerts.json'), '--at', '2025-03-01T10:00:00Z');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('alert 1 of 2 (alertmanager):');
  expect(r.stdout).toContain('✗ rules[0] databases');
  expect(r.stdout).toContain('no match: team="db"');
  expect(r.stdout).toContain('✓ rules[3] no-team');
  expect(r.stdout).toContain('PostSlackMessage root → #unowned');
  expect(r.stdout).toContain('CreatePagerAlert P1');
});

test.each([
  ['grafana', 'grafana/grafana_docs_webhook_example.json'],
  ['alertmanager', 'alertmanager/zulip_resolved_single.json'],
])('test --alert recognises a %s payload and normalises it as ingest does', async (kind, fixture) => {
  const r = await run('rules', 'test', testdata('rules.nested.yaml'), '--alert', path.join(fixtures, fixture), '--json');
  expect(r.code).toBe(0);
  const parsed = JSON.parse(r.stdout) as { inputs: Array<{ input: { source: string; alias: string }; route: { rule: { path: string } } }> };
  expect(parsed.inputs.length).toBeGreaterThan(0);
  for (const i of parsed.inputs) {
    expect(i.input.source).toBe(kind);
    expect(i.input.alias).toMatch(new RegExp(`^${kind}:`));
  }
});

test('test --alert with a generic payload and with an AlertReceived event', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rules-cli-'));
  const generic = path.join(dir, 'generic.json');
  writeFileSync(generic, JSON.stringify({ title: 'Replication lag', severity: 'critical', labels: { team: 'db', alias: 'x' }, alias: 'repl-lag' }));
  const r = await run('rules', 'test', testdata('rules.nested.yaml'), '--alert', generic, '--json');
  const parsed = JSON.parse(r.stdout) as { inputs: Array<{ input: { alias: string }; route: { rule: { path: string }; slackChannel: string; pager: { priority: string } }; events: Array<{ type: string }> }> };
  expect(parsed.inputs[0]).toMatchObject({ input: { alias: 'generic:repl-lag' }, route: { rule: { path: 'rules[0].routes[0]' }, slackChannel: '#db', pager: { priority: 'P1' } } });
  expect(parsed.inputs[0]!.events.map((e) => e.type)).toEqual(['IncidentOpened', 'PostSlackMessage', 'CreatePagerAlert']);

  const event = path.join(dir, 'event.json');
  writeFileSync(event, JSON.stringify(firing('alertmanager:evt', { severity: 'info', labels: { severity: 'info', team: 'db' } })));
  const dropped = await run('rules', 'test', testdata('rules.basic.yaml'), '--alert', event);
  expect(dropped.stdout).toContain('✓ rules[1] drop-info');
  expect(dropped.stdout).toContain('EventSuppressed (dropped-by-rule)');
});

test('test --slack shows which rules a Slack message matches (channel, user, text)', async () => {
  const r = await run('rules', 'test', testdata('rules.matchers.yaml'), '--slack', path.join(fixtures, 'slack/event_callback_app_mention.json'));
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Slack message in C123 from UUUUUXXXXX');
  expect(r.stdout).toContain('no match: channel=~"C0OPS.*"');
  expect(r.stdout).toContain('✓ rules[2] slack-other');
});

test('test --text shows which command a message to the app is, what it does, and the sender\'s role', async () => {
  const file = testdata('rules.permissions.yaml');
  const runbook = await run('rules', 'test', file, '--text', 'runbook checkout', '--user', 'U0BOB');
  expect(runbook.code).toBe(0);
  expect(runbook.stdout).toContain('command: commands.handlers[0] (runbook)');
  expect(runbook.stdout).toContain('groups: service="checkout"');
  expect(runbook.stdout).toContain('U0BOB is operator (permissions.users.U0BOB)');
  expect(runbook.stdout).toContain('PostSlackReply: "Runbook of *checkout*: https://runbooks.example.com/checkout (for <@U0BOB>)"');

  const status = await run('rules', 'test', file, '--text', 'status api');
  expect(status.stdout).toContain('CallCommandWebhook POST https://status.example.com/alertbus (timeout 3 s)');
  expect(status.stdout).not.toContain('s3cret');

  const deploy = await run('rules', 'test', file, '--text', 'deploy api to prod', '--user', 'U0DAVE', '--groups', 'sre');
  expect(deploy.stdout).toContain('U0DAVE is operator (permissions.groups.sre)');
  expect(deploy.stdout).toContain('CustomCommandRequested deploy {"service":"api","env":"prod"} on commands.custom.v1');
  const refused = await run('rules', 'test', file, '--text', 'cache clear', '--user', 'U0ALICE');
  expect(refused.stdout).toContain('built-in cache-clear');
  expect(refused.stdout).toContain('EventSuppressed (not-permitted)');
  expect(refused.stdout).toContain('PostSlackEphemeral to U0ALICE alone');

  const unknown = await run('rules', 'test', file, '--text', 'frobnicate');
  expect(unknown.stdout).toContain('command: default help');
  expect(unknown.stdout).toContain('commands.default help answers with the help');
  const builtin = await run('rules', 'test', testdata('rules.basic.yaml'), '--text', 'frobnicate');
  expect(builtin.stdout).toContain('a single unknown word: answered "I didn\'t understand — try `help`", nobody paged');
  expect(builtin.stdout).toContain('no permissions: section (everyone may do everything)');

  // `ack <alias>` is decided at the alias it names, as ingest keys it: with no incident there, the router says so to
  // the writer alone; it is not the reply to an old mention outside a thread.
  const named = await run('rules', 'test', file, '--text', 'ack team-db', '--user', 'U0BOB');
  expect(named.stdout).toContain('built-in ack');
  expect(named.stdout).toContain('EventSuppressed (no-incident)');
  expect(named.stdout).toContain('PostSlackEphemeral to U0BOB alone: "I know of no incident with the alias `team-db`');
  expect(named.stdout).not.toContain('a mention acts only on the incident of the thread');
});

test('test shows the Slack texts it would post as Slack shows them; --json keeps them as posted', async () => {
  const file = path.join(root, 'examples/rules.yaml');
  const r = await run('rules', 'test', file, '--text', 'runbook api');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('Try `oncall <schedule>`.');
  expect(r.stdout).not.toContain('&lt;');
  const json = await run('rules', 'test', file, '--text', 'runbook api', '--json');
  expect(json.stdout).toContain('oncall &lt;schedule&gt;');
});

test('unescapeSlack undoes each of Slack\'s escapes once', () => {
  expect(unescapeSlack('a &lt;b&gt; &amp; c')).toBe('a <b> & c');
  expect(unescapeSlack('&amp;lt; stays &lt;')).toBe('&lt; stays <');
  expect(unescapeSlack('&quot; &nbsp;')).toBe('&quot; &nbsp;');
});

test('usage problems are named, with a non-zero exit', async () => {
  const both = await run('rules', 'test', testdata('rules.basic.yaml'));
  expect(both).toMatchObject({ code: 2, stderr: expect.stringContaining('give exactly one of --alert FILE, --slack FILE and --text TEXT') });
  const missing = await run('rules', 'test', testdata('rules.basic.yaml'), '--alert', '/nonexistent.json');
  expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('cannot read sample /nonexistent.json') });
  const notPayload = await run('rules', 'test', testdata('rules.basic.yaml'), '--alert', path.join(fixtures, 'opsgenie/close_alert_202.json'));
  expect(notPayload.stderr).toContain('cannot tell what the sample is');
  const noBrokers = await run('rules', 'backtest', testdata('rules.basic.yaml'), '--from', 'yesterday');
  expect(noBrokers).toMatchObject({ code: 2, stderr: expect.stringContaining('--from must be an ISO 8601 time') });
});

test('schema prints the JSON Schema of the rules file', async () => {
  const r = await run('rules', 'schema');
  const schema = JSON.parse(r.stdout) as { properties: Record<string, unknown> };
  expect(Object.keys(schema.properties)).toEqual(['defaults', 'rules', 'inhibit', 'storm_control', 'usergroups', 'tags', 'permissions', 'commands']);
});

test('backtest: brokers that are not host:port are refused naming them, before any connection (stdout stays the report\'s)', async () => {
  const r = await run('rules', 'backtest', path.join(root, 'examples/rules.yaml'), '--from', 'now-1h', '--brokers', '127.0.0.1', '--json');
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe('alertbus rules: KAFKA_BROKERS entries must be host:port, got "127.0.0.1" (set KAFKA_BROKERS or pass --brokers host:port)\n');
});

test('times: ISO 8601, now, now-<duration>', () => {
  const now = Date.parse('2025-03-08T00:00:00Z');
  expect(parseInstant('--from', 'now-7d', now)).toBe(Date.parse('2025-03-01T00:00:00Z'));
  expect(parseInstant('--from', 'now', now)).toBe(now);
  expect(parseInstant('--from', '2025-03-01T10:00:00Z', now)).toBe(Date.parse('2025-03-01T10:00:00Z'));
  expect(() => parseInstant('--from', '7d', now)).toThrow(/ISO 8601/);
  // A time without a zone would be read in the machine's: another window in New York than in UTC.
  expect(() => parseInstant('--from', '2025-03-01T10:00:00', now)).toThrow('--from must say its zone, as 2025-03-01T10:00:00Z (UTC) or +01:00, not "2025-03-01T10:00:00"');
  expect(parseInstant('--from', '2025-03-01T11:00:00+01:00', now)).toBe(Date.parse('2025-03-01T10:00:00Z'));
  expect(parseInstant('--from', '2025-03-01', now)).toBe(Date.parse('2025-03-01T00:00:00Z'));
  // A day the month does not have: refused, not read as the first of the next month.
  expect(() => parseInstant('--from', '2025-02-30T00:00:00Z', now)).toThrow(/ISO 8601/);
});
