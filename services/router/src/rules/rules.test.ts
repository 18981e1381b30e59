import { readFileSync } from 'node:fs';
import path from 'node:path';
import { builtinRules, canonicalJson, compileRules } from './compile';
import { parseDuration } from './duration';
import { matches, parseMatcher } from './matcher';
import { route } from './route';
import type { CompiledRules, RoutableAlert } from './types';
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

describe('durations', () => {
  test.each([
    ['4h', 4 * 3_600_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['1d', 86_400_000],
    ['4 hours', null],
    ['', null],
  ])('%s → %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
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
      expect.stringMatching(/^rules\.invalid\.yaml:8:13: rules\[1\]\.match\[0\]: bad regex in matcher "service=~\\"api\(\|\\"": Invalid regular expression/),
      'rules.invalid.yaml:10:24: rules[2].pager.priority: must be one of "P1", "P2", "P3", "P4", "P5"',
      'rules.invalid.yaml:12:5: rules[3].slak: unknown field "slak" (expected one of: name, match, slack, pager, repeat_interval, continue, drop)',
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

  test('an empty file means the built-in behaviour under the file version', () => {
    const r = compileRules('', 'empty.yaml', { defaultChannel: '#alerts' });
    expect(r.ok).toBe(true);
    if (r.ok) expect(route(r.rules, alertOf({})).slackChannel).toBe('#alerts');
  });
});
