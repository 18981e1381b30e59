import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { builtinRules, canonicalJson, compileRules } from './compile';
import { rulesFrom } from '../test-support/scenario';
import { matches, parseMatcher, PATTERN_LIMITS } from '@alertbus/schemas';
import { matchLabels, route, traceRules } from './route';
import { parseTemplate, renderTemplate } from './template';
import type { CompiledRules, Routable, RoutableAlert, RoutableSlackMessage } from './types';
import { createHash } from 'node:crypto';

const testdata = (name: string) => path.resolve(__dirname, '../../testdata', name);

function load(name: string): CompiledRules {
  const file = testdata(name);
  const r = compileRules(readFileSync(file), file, { defaultChannel: '#alerts' });
  if (!r.ok) throw new Error(r.message);
  return r.rules;
}

const alertOf = (labels: Record<string, string>, extra: Partial<RoutableAlert> = {}): RoutableAlert => ({
  labels,
  source: 'alertmanager',
  severity: labels.severity ?? 'warning',
  status: 'firing',
  ...extra,
});

describe('matchers (Alertmanager syntax)', () => {
  test.each([
    ['team="db"', { team: 'db' }, true],
    ['team="db"', { team: 'dba' }, false],
    ['team!="db"', { team: 'web' }, true],
    ['team!="db"', {}, true],
    ['team=""', {}, true],
    ['team!=""', {}, false],
    ['team=db', { team: 'db' }, true],
    ['severity=~"critical|page"', { severity: 'page' }, true],
    ['severity=~"crit"', { severity: 'critical' }, false], // regexes are fully anchored
    ['severity!~"info|debug"', { severity: 'info' }, false],
    ['severity!~"info|debug"', { severity: 'warning' }, true],
    ['  env = "prod"  ', { env: 'prod' }, true],
    ['path="a\\"b"', { path: 'a"b' }, true],
    ['"weird name"="x"', { 'weird name': 'x' }, true],
  ])('%s on %j → %s', (text, labels, expected) => {
    const parsed = parseMatcher(text);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(matches(parsed.matcher, labels)).toBe(expected);
  });

  test.each([['team=="db"'], ['team'], ['=x'], ['team="db'], ['team=a b'], ['svc=~"api(|"']])('%s is rejected', (text) => {
    expect(parseMatcher(text).ok).toBe(false);
  });
});

describe('routing (rules.basic.yaml)', () => {
  const rules = load('rules.basic.yaml');
  test.each<[string, RoutableAlert, { path: string; name?: string; drop?: boolean; channel?: string; priority?: string; repeat?: number }]>([
    ['db critical → databases', alertOf({ team: 'db', severity: 'critical' }), { path: 'rules[0]', name: 'databases', channel: '#db-alerts', priority: 'P1', repeat: 3_600_000 }],
    ['db warning falls through to defaults', alertOf({ team: 'db', severity: 'warning', env: 'production' }), { path: 'defaults', channel: '#alerts', priority: 'P3', repeat: 14_400_000 }],
    ['info → dropped', alertOf({ team: 'db', severity: 'info' }), { path: 'rules[1]', name: 'drop-info', drop: true }],
    ['grafana staging → no pager', alertOf({ team: 'web', env: 'staging' }, { source: 'grafana' }), { path: 'rules[2]', name: 'staging-quiet', channel: '#staging' }],
    ['alertmanager staging is not staging-quiet', alertOf({ team: 'web', env: 'staging' }), { path: 'defaults', channel: '#alerts', priority: 'P3' }],
    ['no team → #unowned, pager from defaults', alertOf({ env: 'production', severity: 'critical' }), { path: 'rules[3]', name: 'no-team', channel: '#unowned', priority: 'P1' }],
    ['no team but resolved → defaults (status pseudo-label)', alertOf({ env: 'production' }, { status: 'resolved' }), { path: 'defaults', channel: '#alerts', priority: 'P3' }],
    ['severity pseudo-label wins over the label', alertOf({ team: 'db', severity: 'warning' }, { severity: 'critical' }), { path: 'rules[0]', name: 'databases', channel: '#db-alerts', priority: 'P1' }],
  ])('%s', (_, alert, want) => {
    const r = route(rules, alert);
    expect(r.rule).toEqual({ path: want.path, ...(want.name ? { name: want.name } : {}), rulesVersion: rules.version });
    expect(r.drop).toBe(want.drop ?? false);
    if (want.drop) return;
    expect(r.slackChannel).toBe(want.channel);
    expect(r.pager?.priority).toBe(want.priority);
    if (want.repeat !== undefined) expect(r.repeatIntervalMs).toBe(want.repeat);
  });

  test('the databases rule brings its responders, tags and note_on_repeat', () => {
    const r = route(rules, alertOf({ team: 'db', severity: 'page' }));
    expect(r.pager).toEqual({ priority: 'P1', tags: ['db'], responders: [{ type: 'team', name: 'dba' }], noteOnRepeat: true });
  });

  test('rulesVersion is the sha256 of the file bytes', () => {
    expect(rules.version).toBe(createHash('sha256').update(readFileSync(testdata('rules.basic.yaml'))).digest('hex'));
  });

  test('compiled rules are immutable', () => {
    expect(Object.isFrozen(rules)).toBe(true);
    expect(Object.isFrozen(rules.rules[0]!.matchers)).toBe(true);
    expect(() => (rules.rules as unknown[]).push({})).toThrow();
  });
});

describe('routing with continue (rules.continue.yaml)', () => {
  const rules = load('rules.continue.yaml');
  test.each<[string, Record<string, string>, { path: string; channel?: string; priority?: string; repeat: number; tags?: string[] }]>([
    // team-db-channel gives Slack, critical-pages-p1 gives the pager and repeat, firehose adds nothing new.
    ['db critical: each part from the first rule that sets it', { team: 'db', severity: 'critical' }, { path: 'rules[0],rules[1],rules[2]', channel: '#db', priority: 'P1', repeat: 1_800_000, tags: ['critical'] }],
    ['db warning: Slack from rule 0, pager switched off by the firehose', { team: 'db', severity: 'warning' }, { path: 'rules[0],rules[2]', channel: '#db', repeat: 14_400_000 }],
    ['web critical: Slack from the firehose, pager from rule 1', { team: 'web', severity: 'critical' }, { path: 'rules[1],rules[2]', channel: '#firehose', priority: 'P1', repeat: 1_800_000 }],
    ['web warning: only the firehose', { team: 'web', severity: 'warning' }, { path: 'rules[2]', channel: '#firehose', repeat: 14_400_000 }],
  ])('%s', (_, labels, want) => {
    const r = route(rules, alertOf(labels));
    expect(r.rule.path).toBe(want.path);
    expect(r.slackChannel).toBe(want.channel);
    expect(r.pager?.priority).toBe(want.priority);
    expect(r.repeatIntervalMs).toBe(want.repeat);
    if (want.tags) expect(r.pager?.tags).toEqual(want.tags);
    expect(r.rule.name).toBeDefined();
  });

  test('a drop anywhere in a continue chain drops the alert and names the dropping rule', () => {
    const rules2 = load('rules.continue-drop.yaml');
    const dropped = route(rules2, alertOf({ noisy: 'true', severity: 'warning' }));
    expect(dropped).toMatchObject({ drop: true, rule: { path: 'rules[1]', name: 'drop-noisy-warnings' } });
    const kept = route(rules2, alertOf({ noisy: 'true', severity: 'critical' }));
    expect(kept).toMatchObject({ drop: false, slackChannel: '#noise', rule: { path: 'rules[0]' } });
  });
});

describe('built-in defaults', () => {
  const rules = builtinRules({ defaultChannel: '#ops' });
  test('everything goes to the default channel and pages by severity, every 4h', () => {
    const r = route(rules, alertOf({ severity: 'error' }, { severity: 'error' }));
    expect(r).toMatchObject({ drop: false, slackChannel: '#ops', pager: { priority: 'P2', tags: [], responders: [] }, repeatIntervalMs: 14_400_000 });
    expect(r.rule).toEqual({ path: 'defaults', rulesVersion: rules.version });
  });

  test('the version hashes the canonical JSON of the defaults, so it changes with the channel', () => {
    expect(rules.version).toMatch(/^[0-9a-f]{64}$/);
    expect(builtinRules({ defaultChannel: '#ops' }).version).toBe(rules.version);
    expect(builtinRules({ defaultChannel: '#alerts' }).version).not.toBe(rules.version);
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});

describe('invalid rules files are rejected with the line and the problem', () => {
  test('rules.invalid.yaml: every problem, in line order', () => {
    const file = testdata('rules.invalid.yaml');
    const r = compileRules(readFileSync(file), 'rules.invalid.yaml', { defaultChannel: '#alerts' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message.split('\n')).toEqual([
      'rules.invalid.yaml:3:20: defaults.repeat_interval: must be a duration such as 4h, 30m or 1h30m',
      'rules.invalid.yaml:6:13: rules[0].match[0]: bad matcher "team==\\"db\\"": the value must be a double-quoted string or a word without spaces, quotes or commas',
      'rules.invalid.yaml:8:13: rules[1].match[0]: bad regex in matcher "service=~\\"api(|\\"": error parsing regexp: missing closing ): `api(|`',
      'rules.invalid.yaml:10:24: rules[2].pager.priority: must be one of "P1", "P2", "P3", "P4", "P5"',
      'rules.invalid.yaml:12:5: rules[3].slak: unknown field "slak" (expected one of: name, match, slack, pager, repeat_interval, mention, continue, drop, oncall, allow_bots, routes)',
      'rules.invalid.yaml:15:11: rules[4]: a rule with drop: true takes no slack, pager or continue',
    ]);
  });

  test('a YAML syntax error names its line', () => {
    const r = compileRules(readFileSync(testdata('rules.syntax-error.yaml')), 'rules.syntax-error.yaml', { defaultChannel: '#a' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^rules\.syntax-error\.yaml:[56]:\d+: \(yaml\): YAML syntax: /);
  });

  test('wrong types and duplicate keys are named too', () => {
    const r = compileRules('rules:\n  - name: a\n    continue: "yes"\n    match: team="db"\n', 'x.yaml', { defaultChannel: '#a' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain('x.yaml:3:15: rules[0].continue: must be boolean');
      expect(r.message).toContain('x.yaml:4:12: rules[0].match: must be array');
    }
    const dup = compileRules('rules: []\nrules: []\n', 'd.yaml', { defaultChannel: '#a' });
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.message).toMatch(/^d\.yaml:2:1: /);
  });

  test('a file that states only `rules: []` means the built-in behaviour under the file version', () => {
    const r = compileRules('rules: []\n', 'none.yaml', { defaultChannel: '#alerts' });
    expect(r.ok).toBe(true);
    if (r.ok) expect(route(r.rules, alertOf({})).slackChannel).toBe('#alerts');
  });
});

const slackMsg = (channel: string, user: string, text: string): RoutableSlackMessage => ({ kind: 'slack-message', channel, user, text });

describe('matchers see the pseudo-labels', () => {
  const m = (text: string) => {
    const p = parseMatcher(text);
    if (!p.ok) throw new Error(p.error);
    return p.matcher;
  };
  test.each<[string, Routable, boolean]>([
    ['source="grafana"', alertOf({}, { source: 'grafana' }), true],
    ['source!="grafana"', alertOf({ source: 'grafana' }), true], // the pseudo-label wins over a label of the same name
    ['severity=~"crit.*"', alertOf({}, { severity: 'critical' }), true],
    ['status!~"firing"', alertOf({}, { status: 'resolved' }), true],
    ['status!~"firing"', alertOf({}), false],
    ['channel="C0OPS"', slackMsg('C0OPS', 'U1', 'hi'), true],
    ['channel!="C0OPS"', slackMsg('C0DEV', 'U1', 'hi'), true],
    ['user=~"U0(A|B)"', slackMsg('C1', 'U0B', 'hi'), true],
    ['user!~"U0BOT.*"', slackMsg('C1', 'U0BOT7', 'hi'), false],
    ['text=~".*disk.*"', slackMsg('C1', 'U1', 'the disk is full'), true],
    ['text=~"disk"', slackMsg('C1', 'U1', 'the disk is full'), false], // anchored
    ['source="slack"', slackMsg('C1', 'U1', ''), true],
    ['severity=""', slackMsg('C1', 'U1', ''), true], // Slack messages have no severity
    ['channel=""', alertOf({}), true], // alerts have no channel
  ])('%s on %j → %s', (text, input, expected) => {
    expect(matches(m(text), matchLabels(input))).toBe(expected);
  });
});

test('matchLabels gives what a spread of the labels and the pseudo-labels gives: keys, order, a label named __proto__', () => {
  const labels = JSON.parse('{"team":"db","source":"x","__proto__":"p","1":"one"}') as Record<string, string>;
  const input = alertOf(labels, { source: 'grafana' });
  const spread = { ...input.labels, source: input.source, severity: input.severity, status: input.status };
  const seen = matchLabels(input);
  expect(Object.entries(seen)).toEqual(Object.entries(spread));
  expect(Object.getPrototypeOf(seen)).toBe(Object.prototype);
  const proto = parseMatcher('__proto__="p"');
  expect(proto.ok && matches(proto.matcher, seen)).toBe(true);
  const plain = alertOf({ team: 'db', source: 'x', 1: 'one' });
  expect(Object.entries(matchLabels(plain))).toEqual(Object.entries({ ...plain.labels, source: plain.source, severity: plain.severity, status: plain.status }));
});

describe('every matcher kind routes (rules.matchers.yaml)', () => {
  const rules = rulesFrom('rules.matchers.yaml');
  test.each<[string, Routable, string, string | null]>([
    ['slack: channel =~, user !~, text =~', slackMsg('C0OPS1', 'U123', 'database down?'), 'slack-ops-channel', '#ops-requests'],
    ['slack: a bot in the ops channel is not a person', slackMsg('C0OPS1', 'U0BOT1', 'database down?'), 'slack-other', null],
    ['slack: text not about disks', slackMsg('C0OPS1', 'U123', 'lunch?'), 'slack-other', null],
    ['slack: user =, text !=', slackMsg('C0RANDOM', 'U0BOSS', 'status?'), 'slack-from-boss', '#boss'],
    ['slack: empty text from the boss', slackMsg('C0RANDOM', 'U0BOSS', ''), 'slack-other', null],
    ['label =', alertOf({ team: 'db' }), 'equal-label', '#eq'],
    ['label != and source =', alertOf({ team: 'search' }, { source: 'grafana' }), 'not-equal-and-source', '#grafana-not-web'],
    ['web from grafana skips the != rule', alertOf({ team: 'web', severity: 'page' }, { source: 'grafana' }), 'regex-severity', '#critical'],
    ['severity =~', alertOf({ severity: 'critical' }), 'regex-severity', '#critical'],
    ['status !~', alertOf({ severity: 'warning' }, { status: 'resolved' }), 'not-regex-status', '#resolved-only'],
    ['quoted label name, missing label = ""', alertOf({ 'weird name': 'x' }), 'quoted-name-and-empty-value', '#weird'],
    ['quoted label name, but the label must be missing', alertOf({ 'weird name': 'x', missing: 'no' }), 'defaults', '#alerts'],
  ])('%s', (_, input, name, channel) => {
    const r = route(rules, input);
    expect(r.rule.name ?? r.rule.path).toBe(name);
    expect(r.drop).toBe(channel === null);
    if (channel) expect(r.slackChannel).toBe(channel);
  });
});

describe('nested rules inherit and override (rules.nested.yaml)', () => {
  const rules = rulesFrom('rules.nested.yaml');
  const dba = [{ type: 'team', name: 'dba' }];
  test.each<[string, Record<string, string>, { path: string; drop?: boolean; channel?: string; priority?: string | null; repeat?: number; responders?: unknown; tags?: string[]; mention?: string }]>([
    ['db warning: the parent applies when no nested rule matches', { team: 'db', severity: 'warning' }, { path: 'rules[0]', channel: '#db', priority: 'P2', repeat: 3_600_000, responders: dba, tags: ['db'] }],
    ['db critical: the nested rule overrides the priority and inherits the rest', { team: 'db', severity: 'critical' }, { path: 'rules[0].routes[0]', channel: '#db', priority: 'P1', repeat: 3_600_000, responders: dba, tags: ['db'] }],
    ['db staging: its own channel, pager switched off, 1h inherited', { team: 'db', env: 'staging', severity: 'warning' }, { path: 'rules[0].routes[1]', channel: '#db-staging', priority: null, repeat: 3_600_000 }],
    ['db staging noisy: three levels deep, dropped', { team: 'db', env: 'staging', noisy: 'true', severity: 'warning' }, { path: 'rules[0].routes[1].routes[0]', drop: true }],
    ['db critical in staging: first nested match wins', { team: 'db', env: 'staging', severity: 'critical' }, { path: 'rules[0].routes[0]', channel: '#db', priority: 'P1' }],
    ['db backups: continue inside the parent; each setting from the first nested rule that has it', { team: 'db', alertname: 'BackupFailed', severity: 'warning' }, { path: 'rules[0].routes[2],rules[0].routes[3]', channel: '#db-backups', priority: 'P2', repeat: 43_200_000, tags: ['db'] }],
    ['test env: dropped by the parent', { env: 'test', severity: 'warning' }, { path: 'rules[1]', drop: true }],
    ['test env critical: a nested rule undoes the drop', { env: 'test', severity: 'critical' }, { path: 'rules[1].routes[0]', channel: '#test-critical', priority: 'P1' }],
    ['web: continue at the top level joins the catch-all', { team: 'web', severity: 'warning' }, { path: 'rules[2],rules[3]', channel: '#web', priority: 'P4' }],
    ['anything else: the catch-all', { team: 'x', severity: 'warning' }, { path: 'rules[3]', channel: '#alerts', priority: 'P4', repeat: 14_400_000 }],
  ])('%s', (_, labels, want) => {
    const r = route(rules, alertOf(labels));
    expect(r.rule.path).toBe(want.path);
    expect(r.drop).toBe(want.drop ?? false);
    if (want.drop) return;
    if (want.channel) expect(r.slackChannel).toBe(want.channel);
    if (want.priority !== undefined) expect(r.pager?.priority ?? null).toBe(want.priority);
    if (want.repeat !== undefined) expect(r.repeatIntervalMs).toBe(want.repeat);
    if (want.responders) expect(r.pager?.responders).toEqual(want.responders);
    if (want.tags) expect(r.pager?.tags).toEqual(want.tags);
  });

  test('the rule names of a nested chain are recorded', () => {
    expect(route(rules, alertOf({ team: 'db', alertname: 'BackupFailed' })).rule).toEqual({
      path: 'rules[0].routes[2],rules[0].routes[3]',
      name: 'db-backups,db-backups-owner',
      rulesVersion: rules.version,
    });
  });

  test('the trace shows which rules matched, which applied, and the matcher that failed', () => {
    const trace = traceRules(rules, alertOf({ team: 'db', severity: 'critical' }));
    expect(trace[0]).toMatchObject({ path: 'rules[0]', matched: true, applied: false });
    expect(trace[0]!.routes[0]).toMatchObject({ path: 'rules[0].routes[0]', name: 'db-critical', matched: true, applied: true });
    expect(trace[0]!.routes[1]).toMatchObject({ matched: false, failed: '(not reached)' });
    expect(trace[1]).toMatchObject({ path: 'rules[1]', matched: false, failed: '(not reached)' });
    const web = traceRules(rules, alertOf({ team: 'web' }));
    expect(web[0]).toMatchObject({ path: 'rules[0]', matched: false, failed: 'team="db"' });
    expect(web[2]).toMatchObject({ path: 'rules[2]', matched: true, applied: true });
    expect(web[3]).toMatchObject({ path: 'rules[3]', matched: true, applied: true });
  });
});

describe('shorthands: severity → channel, tag → channel, pager alias template, on-call mention (rules.shorthand.yaml)', () => {
  const rules = rulesFrom('rules.shorthand.yaml');
  const alert = (labels: Record<string, string>, severity = 'warning', alias = 'alertmanager:fp1') =>
    alertOf(labels, { severity, alias });
  test.each<[string, RoutableAlert, { channel: string; source: string; alias: string; mention?: string }]>([
    ['critical → #incidents', alert({ alertname: 'Down', cluster: 'eu' }, 'critical'), { channel: '#incidents', source: 'severity', alias: 'pager:alertmanager/Down/eu' }],
    ['severity map keys are case-insensitive', alert({ alertname: 'Note' }, 'INFO'), { channel: '#alerts-low', source: 'severity', alias: 'alertmanager:fp1' }],
    ['no mapping → the default channel', alert({ alertname: 'X', cluster: 'us' }), { channel: '#alerts', source: 'defaults', alias: 'pager:alertmanager/X/us' }],
    ['a pager tag maps before the severity', alert({ team: 'db', alertname: 'Slow', cluster: 'eu' }, 'critical'), { channel: '#db', source: 'tag', alias: 'pager:alertmanager/Slow/eu' }],
    ['a `tags` label maps too', alert({ tags: 'web, payments', alertname: 'Pay' }), { channel: '#payments', source: 'tag', alias: 'alertmanager:fp1' }],
    ['a rule\'s own channel beats every map; its own alias template too', alert({ team: 'search', tags: 'payments' }, 'critical'), { channel: '#search', source: 'rule', alias: 'pager:search-alertmanager:fp1', mention: 'search_schedule' }],
  ])('%s', (_, input, want) => {
    const r = route(rules, input);
    expect(r.slackChannel).toBe(want.channel);
    expect(r.channelSource).toBe(want.source);
    expect(r.pager?.alias).toBe(want.alias);
    expect(r.mentionOnCall).toBe(want.mention);
  });

  test('templates: unknown placeholders are refused, blank results fall back to the alias, 512 code points at most', () => {
    expect(parseTemplate('{{ labels.a }}-{{ alias }}').ok).toBe(true);
    expect(parseTemplate('{{ labels }}')).toMatchObject({ ok: false });
    expect(parseTemplate('x }} y')).toMatchObject({ ok: false });
    const t = parseTemplate('{{ labels.none }}');
    if (!t.ok) throw new Error(t.error);
    expect(renderTemplate(t.template, { alias: 'a:1', source: 's', severity: 'w', labels: {} })).toBe('a:1');
    const long = parseTemplate('{{ labels.x }}');
    if (!long.ok) throw new Error(long.error);
    const cut = renderTemplate(long.template, { alias: 'a', source: 's', severity: 'w', labels: { x: '🔥'.repeat(600) } });
    expect([...cut]).toHaveLength(512);
    // Two values alike for 512 code points stay apart: the cut alias ends with a digest of the whole.
    expect(cut).toMatch(/^pager:🔥+~[0-9a-f]{16}$/u);
    expect(renderTemplate(long.template, { alias: 'a', source: 's', severity: 'w', labels: { x: `${'🔥'.repeat(600)}!` } })).not.toBe(cut);
  });

  const render = (text: string, labels: Record<string, string>, alias = 'alertmanager:own') => {
    const t = parseTemplate(text);
    if (!t.ok) throw new Error(t.error);
    return renderTemplate(t.template, { alias, source: 'alertmanager', severity: 'critical', labels });
  };

  test("a rendered alias is never another key: a label's value naming another incident's alias or a storm's stays under pager:", () => {
    // Before, team="alertmanager:victim" paged into the victim's own alert, and its resolve closed it.
    expect(render('{{ labels.team }}', { team: 'alertmanager:victim' })).toBe('pager:alertmanager:victim');
    expect(render('{{ labels.team }}', { team: 'storm:#alerts:2026-12-07T08:00:00.000Z' })).toBe('pager:storm:#alerts:2026-12-07T08:00:00.000Z');
  });

  test('values are written so that different label sets never give one alias', () => {
    const both = (a: string, b: string) => render('{{ labels.a }}-{{ labels.b }}', { a, b });
    // Before, both gave x-y-z: two clusters' incidents shared one pager alert.
    expect(both('x-y', 'z')).toBe('pager:x\\-y-z');
    expect(both('x', 'y-z')).toBe('pager:x-y\\-z');
    expect(both('x\\', '-z')).not.toBe(both('x', '\\-z'));
    expect(both('eu1', 'db')).toBe('pager:eu1-db');
  });

  test('a label the template names that the alert lacks or has blank: the incident pages under its own alias', () => {
    // Before, team-{{ labels.team }} gave "team-", one pager alert for every alert without the label.
    expect(render('team-{{ labels.team }}', {})).toBe('alertmanager:own');
    expect(render('team-{{ labels.team }}', { team: '  ' })).toBe('alertmanager:own');
    expect(render('team-{{ labels.team }}', { team: 'db' })).toBe('pager:team-db');
  });
});

describe('what a file says is what it does', () => {
  const compile = (yaml: string) => compileRules(yaml, 'w.yaml', { defaultChannel: '#alerts' });
  const problems = (yaml: string) => {
    const r = compile(yaml);
    return r.ok ? [] : r.message.split('\n');
  };

  test.each([
    ['a rule', 'rules:\n  - name: quiet\n    repeat_interval: 999999y\n', 'w.yaml:3:22: rules[0].repeat_interval'],
    ['the defaults', 'defaults:\n  repeat_interval: 99999999999999999999h\n', 'w.yaml:2:20: defaults.repeat_interval'],
    ['the storm window', 'storm_control:\n  window: 99999999999999999999h\n', 'w.yaml:2:11: storm_control.window'],
    ['a channel\'s storm window', 'storm_control:\n  channels:\n    "#x": { window: 999999999y }\n', 'w.yaml:3:21: storm_control.channels.#x.window'],
  ])('a duration too long to count in %s is refused (it was taken as unset, or as 0: re-notify on every repeat, no storm control)', (_where, yaml, at) => {
    expect(problems(yaml)).toEqual([`${at}: is too long: at most 285616y`]);
    // The longest that counts is taken.
    expect(problems(yaml.replace(/[0-9]+[hy]/, '285616y'))).toEqual([]);
  });

  test('a duration that is not one reads as such in every duration field, not as the regex behind it', () => {
    expect(problems('storm_control:\n  window: 1 m\n  channels:\n    "#x": { window: 5 minutes }\nrules:\n  - repeat_interval: 1.5h\n')).toEqual([
      'w.yaml:2:11: storm_control.window: must be a duration such as 4h, 30m or 1h30m',
      'w.yaml:4:21: storm_control.channels.#x.window: must be a duration such as 4h, 30m or 1h30m',
      'w.yaml:6:22: rules[0].repeat_interval: must be a duration such as 4h, 30m or 1h30m',
    ]);
  });

  test('settings that would never act are refused, each at its line: beside a drop, or beside the value that always wins', () => {
    expect(problems('rules:\n  - match: [\'severity="info"\']\n    drop: true\n    mention: [here]\n    repeat_interval: 1h\n')).toEqual([
      'w.yaml:4:14: rules[0].mention: a rule with drop: true posts, pages and answers nothing, so mention, repeat_interval would do nothing',
    ]);
    expect(problems('rules:\n  - slack:\n      channel: "#db"\n      channel_by_severity: { critical: "#db-crit" }\n')).toEqual([
      'w.yaml:4:28: rules[0].slack.channel_by_severity: a rule\'s own channel always wins over channel_by_severity: give one or the other',
    ]);
    expect(problems('defaults:\n  pager: { priority: P3, priority_by_severity: { critical: P1 } }\n')).toEqual([
      'w.yaml:2:48: defaults.pager.priority_by_severity: priority always wins over priority_by_severity beside it: give one or the other',
    ]);
    // The defaults' channel is the fallback of their maps, not a rival: both are fine there.
    expect(problems('defaults:\n  slack: { channel: "#alerts", channel_by_severity: { critical: "#incidents" } }\n')).toEqual([]);
  });

  test('an unquoted #channel (a YAML comment, so no value) is told to quote it', () => {
    expect(problems('defaults:\n  slack:\n    channel: #alerts\n')).toEqual([
      'w.yaml:3:14: defaults.slack.channel: must be string (a # starts a YAML comment: quote the channel, "#alerts")',
    ]);
  });

  test('an inhibit equal item that is a list in one string is refused: no alert has that label, so every target would be muted', () => {
    const yaml = 'inhibit:\n  - source_match: [\'severity="critical"\']\n    target_match: [\'severity="warning"\']\n    equal: ["cluster, alertname", alertname]\n';
    expect(problems(yaml)).toEqual([
      'w.yaml:4:13: inhibit[0].equal[0]: "cluster, alertname" is not a label name (a comma or a space): list each label as an item of its own, as [cluster, alertname]',
    ]);
    expect(problems(yaml.replace('"cluster, alertname"', 'cluster'))).toEqual([]);
  });

  test('a pager alias with single braces is refused: as text, it would put every incident of the rule on one pager alert', () => {
    expect(problems('rules:\n  - name: p\n    pager: { alias: "{labels.alertname}-{labels.cluster}" }\n')).toEqual([
      'w.yaml:3:21: rules[0].pager.alias: a single brace in "{labels.alertname}-{labels.cluster}": placeholders are written in double braces, as {{ labels.NAME }}',
    ]);
    expect(problems('defaults:\n  pager: { alias: "{{ labels.alertname }}}" }\n')).toHaveLength(1);
    expect(problems('defaults:\n  pager: { alias: "{{ labels.alertname }}/{{ labels.cluster }}" }\n')).toEqual([]);
  });

  test('a channel with a space, or only spaces, is refused with its line: no Slack channel is called so', () => {
    // Before, each compiled, and every alert routed there failed in the slack-sink with channel_not_found.
    const message = 'must be a Slack channel name (#alerts) or id (C0123), without spaces';
    expect(problems('defaults:\n  slack: { channel: "  " }\n')).toEqual([`w.yaml:2:21: defaults.slack.channel: ${message}`]);
    expect(problems('defaults:\n  slack: { channel: "#alerts " }\n')).toEqual([`w.yaml:2:21: defaults.slack.channel: ${message}`]);
    expect(problems('rules:\n  - match: [\'a="b"\']\n    slack: { channel: "alerts team" }\n')).toEqual([`w.yaml:3:23: rules[0].slack.channel: ${message}`]);
    expect(problems('defaults:\n  slack: { channel: "#alerts", channel_by_severity: { critical: "#inc idents" } }\n')).toEqual([
      `w.yaml:2:65: defaults.slack.channel_by_severity.critical: ${message}`,
    ]);
    expect(problems('defaults:\n  slack: { channel: "C0123ABC" }\n')).toEqual([]);
  });

  test('a rule\'s own pager or slack section turns that output on when the defaults turn it off, unless it says enabled: false', () => {
    const r = compile(
      [
        'defaults:',
        '  pager: { enabled: false }',
        '  slack: { enabled: false }',
        'rules:',
        '  - name: db-pages',
        '    match: [\'team="db"\']',
        '    pager: { priority: P1, responders: [{ type: team, name: dba }] }',
        '    slack: { channel: "#db" }',
        '    routes:',
        '      - name: db-staging',
        '        match: [\'env="staging"\']',
        '        pager: { enabled: false }',
        '  - name: web',
        '    match: [\'team="web"\']',
        '    pager: { enabled: false, priority: P2 }',
        '',
      ].join('\n'),
    );
    if (!r.ok) throw new Error(r.message);
    const db = route(r.rules, alertOf({ team: 'db' }));
    expect(db).toMatchObject({ slackChannel: '#db', pager: { priority: 'P1', responders: [{ type: 'team', name: 'dba' }] } });
    // The nested route's own `enabled: false`, and a section that says so, still turn it off; no section: the defaults.
    expect(route(r.rules, alertOf({ team: 'db', env: 'staging' }))).toMatchObject({ slackChannel: '#db' });
    expect(route(r.rules, alertOf({ team: 'db', env: 'staging' })).pager).toBeUndefined();
    expect(route(r.rules, alertOf({ team: 'web' })).pager).toBeUndefined();
    const other = route(r.rules, alertOf({ team: 'ops' }));
    expect(other.pager).toBeUndefined();
    expect(other.slackChannel).toBeUndefined();
  });
});

describe('more invalid files: nested paths, inhibit, storm control and templates are named by line', () => {
  test('rules.invalid-more.yaml', () => {
    const r = compileRules(readFileSync(testdata('rules.invalid-more.yaml')), 'rules.invalid-more.yaml', { defaultChannel: '#alerts' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message.split('\n')).toEqual([
      'rules.invalid-more.yaml:6:17: rules[0].routes[0].match[0]: bad matcher "severity==\\"critical\\"": the value must be a double-quoted string or a word without spaces, quotes or commas',
      'rules.invalid-more.yaml:7:25: rules[0].routes[0].pager.alias: unknown placeholder {{ nope }} in "{{ labels.x }}-{{ nope }}" (expected {{ alias }}, {{ source }}, {{ severity }} or {{ labels.NAME }})',
      'rules.invalid-more.yaml:10:20: inhibit[0].target_match[0]: bad regex in matcher "severity=~\\"warn(ing\\"": error parsing regexp: missing closing ): `warn(ing`',
      'rules.invalid-more.yaml:12:14: storm_control.threshold: must be >= 1',
      'rules.invalid-more.yaml:13:11: storm_control.window: must be longer than 0',
    ]);
  });

  test('rules.invalid-regex.yaml: what RE2 cannot run is named by line; backtracking-prone patterns are fine', () => {
    const r = compileRules(readFileSync(testdata('rules.invalid-regex.yaml')), 'rules.invalid-regex.yaml', { defaultChannel: '#alerts' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const unsupported = (what: string) => `(${what} are not supported: patterns use RE2 syntax, as in Alertmanager)`;
    expect(r.message.split('\n')).toEqual([
      `rules.invalid-regex.yaml:4:13: rules[0].match[0]: bad regex in matcher "host=~\\"(?!db).*\\"": error parsing regexp: invalid or unsupported Perl syntax: \`(?!\` ${unsupported('lookahead and lookbehind')}`,
      `rules.invalid-regex.yaml:6:13: rules[1].match[0]: bad regex in matcher "pair=~\\"(a)\\\\1\\"": error parsing regexp: invalid escape sequence: \`\\1\` ${unsupported('backreferences')}`,
      `rules.invalid-regex.yaml:11:20: inhibit[0].target_match[0]: bad regex in matcher "service=~\\"(?<=api-)v1\\"": error parsing regexp: invalid named capture: \`(?<=api-)v1\` ${unsupported('lookahead and lookbehind')}`,
    ]);
  });

  test(`too long a regex, or too many in one list, is named by line (limits: ${PATTERN_LIMITS.maxLength} characters, ${PATTERN_LIMITS.maxPerList} per list)`, () => {
    const many = Array.from({ length: PATTERN_LIMITS.maxPerList + 1 }, (_, i) => `'l${i}=~"v.*"'`).join(', ');
    const yaml = `rules:\n  - name: long\n    match: ['host=~"${'a'.repeat(PATTERN_LIMITS.maxLength + 1)}"']\n  - name: many\n    match: [${many}]\n`;
    const r = compileRules(yaml, 'limits.yaml', { defaultChannel: '#a' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^limits\\.yaml:3:13: rules\\[0\\]\\.match\\[0\\]: bad regex in matcher "host=~\\\\"a+…": the regex is ${PATTERN_LIMITS.maxLength + 1} characters long; at most ${PATTERN_LIMITS.maxLength} are allowed$`)),
      `limits.yaml:5:12: rules[1].match: ${PATTERN_LIMITS.maxPerList + 1} regex matchers (=~, !~) in one list; at most ${PATTERN_LIMITS.maxPerList} are allowed`,
    ]);
  });

  test('every rules file of the tests, examples/rules.yaml and the YAML examples of the READMEs compile with RE2', () => {
    const files = readdirSync(testdata('.')).filter((f) => f.endsWith('.yaml') && !/invalid|syntax-error/.test(f));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) expect(compileRules(readFileSync(testdata(f)), f, { defaultChannel: '#a' })).toMatchObject({ ok: true });
    const repo = path.resolve(__dirname, '../../../..');
    expect(compileRules(readFileSync(path.join(repo, 'examples/rules.yaml')), 'examples/rules.yaml', { defaultChannel: '#a' })).toMatchObject({ ok: true });
    const readmes = ['README.md', 'services/router/README.md'].map((f) => readFileSync(path.join(repo, f), 'utf8'));
    const examples = readmes.flatMap((md) => [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!)).filter((y) => /^(rules|defaults|inhibit):/m.test(y));
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const y of examples) {
      const r = compileRules(y, 'README example', { defaultChannel: '#a' });
      if (!r.ok) throw new Error(`${r.message}\n---\n${y}`);
    }
  });

  test('the router README\'s reference file routes as its comments say (the defaults\' shorthands are reached)', () => {
    const md = readFileSync(path.resolve(__dirname, '../../../../services/router/README.md'), 'utf8');
    const yaml = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((y) => y.includes('usergroups:') && y.includes('storm_control:'));
    const r = compileRules(yaml!, 'README reference', { defaultChannel: '#a' });
    if (!r.ok) throw new Error(r.message);
    const at = (labels: Record<string, string>) => route(r.rules, alertOf(labels));
    expect(at({ severity: 'critical' })).toMatchObject({ slackChannel: '#incidents', channelSource: 'severity', pager: { priority: 'P1' } });
    expect(at({ tags: 'payments' })).toMatchObject({ slackChannel: '#payments', channelSource: 'tag' });
    expect(at({ team: 'db', severity: 'critical' })).toMatchObject({ slackChannel: '#db-alerts', pager: { priority: 'P1' } });
    expect(at({ team: 'db', env: 'staging' }).pager).toBeUndefined();
    expect(at({ severity: 'info' }).drop).toBe(true);
    expect(at({ service: 'payments-api' }).pager?.tags).toEqual(['payments']);
  });

  test('an unknown field deep in a nested rule lists the fields a rule takes', () => {
    const r = compileRules('rules:\n  - routes:\n      - routes:\n          - chanel: x\n', 'n.yaml', { defaultChannel: '#a' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/^n\.yaml:4:13: rules\[0\]\.routes\[0\]\.routes\[0\]\.chanel: unknown field "chanel" \(expected one of: name, match, slack, pager, repeat_interval, mention, continue, drop, oncall, allow_bots, routes\)$/);
  });
});

describe('mention: who an incident pings, only where a rule asks (rules.mention.yaml)', () => {
  const rules = load('rules.mention.yaml');
  test.each<[labels: Record<string, string>, severity: string, mention: string[] | undefined]>([
    [{ alertname: 'DiskFull', env: 'staging' }, 'warning', ['<!subteam^S0SRE123>', '<@U0LEAD01>']], // @sre via usergroups
    [{ alertname: 'DiskFull', env: 'prod' }, 'warning', ['<!channel>', '<!subteam^S0DBA456>']], // a nested rule's own list; handles ignore case
    [{ alertname: 'DiskFull', env: 'dev' }, 'warning', undefined], // mention: [] turns the inherited one off
    [{ alertname: 'Other' }, 'critical', ['<!here>', '<!subteam^S0ONCALL>']], // a group by its id
    [{ team: 'web' }, 'warning', undefined], // a rule without mention
    [{}, 'warning', undefined], // the defaults never ping
  ])('%j (%s) → %j', (labels, severity, mention) => {
    expect(route(rules, alertOf(labels, { severity })).mention).toEqual(mention);
  });

  test('no Slack channel, no mention', () => {
    const r = compileRules('rules:\n  - mention: [channel]\n    slack: { enabled: false }\n', 'x.yaml', { defaultChannel: '#a' });
    expect(r.ok && route(r.rules, alertOf({})).mention).toBeUndefined();
  });

  test('what is not a mention, an unknown handle and a bad group id are named by line', () => {
    const yaml = 'usergroups:\n  ops: "not-an-id"\nrules:\n  - mention: [everyone, "@nobody", "u123", channel]\n';
    const r = compileRules(yaml, 'm.yaml', { defaultChannel: '#a' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message.split('\n')).toEqual([
      'm.yaml:2:8: usergroups.ops: "not-an-id" is not a user group id: expected S… (Slack: the group\'s ⋮ menu → Copy group ID)',
      'm.yaml:4:15: rules[0].mention[0]: "everyone" is not a mention: expected channel, here, @handle (a user group listed under usergroups), a user group id (S…) or a user id (U…, W…)',
      'm.yaml:4:25: rules[0].mention[1]: unknown user group @nobody: name its id in the file\'s usergroups (usergroups: { nobody: S0123ABCD })',
      'm.yaml:4:36: rules[0].mention[2]: "u123" is not a mention: expected channel, here, @handle (a user group listed under usergroups), a user group id (S…) or a user id (U…, W…)',
    ]);
  });
});

describe('what a chain of rules decides, kept per chain', () => {
  const yaml = (text: string): CompiledRules => {
    const r = compileRules(Buffer.from(text), 'inline.yaml', { defaultChannel: '#alerts' });
    if (!r.ok) throw new Error(r.message);
    return r.rules;
  };
  const base = yaml(['defaults:', '  pager: { priority: P3 }', 'rules:', '  - match: [\'team="db"\']', '    slack: { channel: "#db" }'].join('\n'));
  // The same rule objects under other rules (another version, other defaults): what the chain takes from the rules
  // that route it must be theirs, not what was kept for the rule under the first.
  const other: CompiledRules = { ...base, version: 'other-version', defaults: { ...base.defaults, pager: { ...base.defaults.pager, enabled: false }, repeatIntervalMs: 7 } };

  it('follows the rules it is given, for a one-rule chain and for the defaults, in any order', () => {
    const db = alertOf({ team: 'db' });
    const web = alertOf({ team: 'web' });
    for (let round = 0; round < 2; round++) {
      for (const [rules, version, paged, repeat] of [[base, base.version, true, base.defaults.repeatIntervalMs], [other, 'other-version', false, 7]] as const) {
        for (const input of [db, web]) {
          const r = route(rules, input);
          expect(r.rule.rulesVersion).toBe(version);
          expect(r.pager !== undefined).toBe(paged);
          expect(r.repeatIntervalMs).toBe(repeat);
        }
        expect(route(rules, db).slackChannel).toBe('#db');
        expect(route(rules, db).rule.path).toBe('rules[0]');
        expect(route(rules, web).rule.path).toBe('defaults');
      }
    }
  });
});
