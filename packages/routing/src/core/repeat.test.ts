/** repeat_interval (testdata/rules.repeat.yaml): given a firing incident, when it fires again, then re-notify only after the interval. */
import { firing, HOUR, MINUTE, resolved } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { compileRules } from '../rules/compile';
import { buttonClick } from '../test-support/slack';
import { Replayer } from './replay';

const rules = rulesFrom('rules.repeat.yaml');

/** Fires at each offset (ms after T0) and returns the brief outputs of the last one. */
function lastOf(team: string, offsets: number[]): string[] {
  const r = new Replayer(rules);
  let out: string[] = [];
  offsets.forEach((at, n) => {
    out = r.decide(firing(`alertmanager:${team}`, { at, n, labels: { team } })).events.map(brief);
  });
  return out;
}

describe('repeat interval (rules.repeat.yaml)', () => {
  test.each<[string, string, number[], string[]]>([
    ['db (30m): a repeat after 10m is a duplicate', 'db', [0, 10 * MINUTE], ['IncidentRepeated:duplicate']],
    ['db (30m): after 30m it is re-notified, with a pager note', 'db', [0, 30 * MINUTE], ['IncidentRepeated:repeat-interval-elapsed', 'PostSlackMessage:reply:#alerts', 'AddPagerNote']],
    ['db (30m): counted from the last notification', 'db', [0, 30 * MINUTE, 50 * MINUTE], ['IncidentRepeated:duplicate']],
    ['db (30m): and again 30m after that one', 'db', [0, 30 * MINUTE, 50 * MINUTE, 60 * MINUTE], ['IncidentRepeated:repeat-interval-elapsed', 'PostSlackMessage:reply:#alerts', 'AddPagerNote']],
    ['batch (1d): 23h is still a duplicate', 'batch', [0, 23 * HOUR], ['IncidentRepeated:duplicate']],
    ['batch (1d): 24h re-notifies, no note (the rule does not ask)', 'batch', [0, 24 * HOUR], ['IncidentRepeated:repeat-interval-elapsed', 'PostSlackMessage:reply:#alerts']],
    ['defaults (4h): 3h59m is a duplicate', 'web', [0, 4 * HOUR - MINUTE], ['IncidentRepeated:duplicate']],
    ['defaults (4h): 4h re-notifies', 'web', [0, 4 * HOUR], ['IncidentRepeated:repeat-interval-elapsed', 'PostSlackMessage:reply:#alerts']],
  ])('%s', (_, team, offsets, want) => {
    expect(lastOf(team, offsets)).toEqual(want);
  });

  test('a resolve ends the interval: the next firing is a new incident, notified at once', () => {
    const r = new Replayer(rules);
    const alias = 'alertmanager:db';
    r.decide(firing(alias, { labels: { team: 'db' } }));
    r.decide(resolved(alias, { at: MINUTE, labels: { team: 'db' } }));
    expect(r.decide(firing(alias, { at: 2 * MINUTE, labels: { team: 'db' } })).events.map(brief)).toEqual([
      'IncidentReopened:reopened',
      'PostSlackMessage:root:#alerts',
      'CreatePagerAlert:P1',
    ]);
  });
});

describe('repeats of an acknowledged incident, and repeats that notify nobody', () => {
  const mention = rulesFrom('rules.mention.yaml');
  const alias = 'alertmanager:disk-prod';
  const labels = { alertname: 'DiskFull', env: 'prod' };

  test('once acknowledged, the repeat reply says it still fires without pinging @channel and the group again', () => {
    const r = new Replayer(mention);
    const opened = r.decide(firing(alias, { labels })).events.find((e) => e.type === 'IncidentOpened')!;
    const before = r.decide(firing(alias, { at: HOUR, labels, n: 1 })).events.find((e) => e.type === 'PostSlackMessage')!;
    expect((before.data as { text: string }).text).toContain('<!channel>');
    r.decide(buttonClick(alias, (opened.data as { incidentId: string }).incidentId, 'alertbus_ack', { at: HOUR + MINUTE }));
    const after = r.decide(firing(alias, { at: 2 * HOUR + MINUTE, labels, n: 2 })).events;
    expect(after.map(brief)).toEqual(['IncidentRepeated:repeat-interval-elapsed', 'PostSlackMessage:reply:#alerts']);
    const text = (after[1]!.data as { text: string }).text;
    expect(text).toMatch(/still firing/i);
    expect(text).not.toMatch(/<!channel>|<!subteam\^/);
  });

  test('a repeat past its interval that sends nothing (a rule without Slack or note_on_repeat) is recorded as not notified', () => {
    const quiet = compileRules(Buffer.from('defaults:\n  slack: { enabled: false }\n  repeat_interval: 1h\n'), 'quiet.yaml', { defaultChannel: '#alerts' });
    if (!quiet.ok) throw new Error(quiet.message);
    const r = new Replayer(quiet.rules);
    r.decide(firing(alias, { labels }));
    const again = r.decide(firing(alias, { at: 2 * HOUR, labels, n: 1 })).events;
    expect(again.map((e) => e.type)).toEqual(['IncidentRepeated']);
    expect(again[0]!.data).toMatchObject({ reason: 'repeat-interval-elapsed', notified: false });
  });
});

describe('an incident opened without a page whose alert now routes to one', () => {
  const basic = rulesFrom('rules.basic.yaml');
  const alias = 'generic:db-disk';
  const at = (severity: string, ms: number, n: number) =>
    firing(alias, { at: ms, n, severity, source: 'generic', labels: { alertname: 'DiskFull', team: 'db', env: 'staging', severity } });

  test('a warning that becomes critical under the same alias is paged at once, at the priority its rule now gives, and once', () => {
    const r = new Replayer(basic);
    expect(r.decide(at('warning', 0, 0)).events.map(brief)).toEqual(['IncidentOpened:first-notification', 'PostSlackMessage:root:#staging']);
    const escalated = r.decide(at('critical', 10 * MINUTE, 1)).events;
    expect(escalated.map(brief)).toEqual(['IncidentRepeated:duplicate', 'CreatePagerAlert:P1']);
    expect(escalated[0]!.data).toMatchObject({ notified: true, pager: { priority: 'P1' } });
    expect(escalated[1]!.data).toMatchObject({ responders: [{ type: 'team', name: 'dba' }] });
    // Paged now: the next repeat notes the page (the databases rule asks for it), and pages no more.
    expect(r.decide(at('critical', 80 * MINUTE, 2)).events.map(brief)).toEqual(['IncidentRepeated:repeat-interval-elapsed', 'PostSlackMessage:reply:#staging', 'AddPagerNote']);
    // And its resolve closes the page.
    expect(r.decide(resolved(alias, { at: 90 * MINUTE, severity: 'critical', source: 'generic', labels: { alertname: 'DiskFull', team: 'db', env: 'staging', severity: 'critical' } })).events.map(brief)).toContain('ClosePagerAlert');
  });
});

describe('a paged incident whose alert now routes to a higher priority', () => {
  const compiled = compileRules(
    Buffer.from('defaults:\n  slack: { channel: "#alerts" }\n  pager: { enabled: true, tags: [], responders: [] }\n  repeat_interval: 4h\n'),
    'builtin-priorities.yaml',
    { defaultChannel: '#alerts' },
  );
  if (!compiled.ok) throw new Error(compiled.message);
  const rules = compiled.rules;
  const alias = 'generic:api-errors';
  const at = (severity: string, ms: number, n: number) =>
    firing(alias, { at: ms, n, severity, source: 'generic', labels: { alertname: 'ApiErrors', service: 'api', severity } });

  test('a warning paged at P3 that becomes critical has its page raised to P1, with a note and a reply in its thread, once', () => {
    const r = new Replayer(rules);
    expect(r.decide(at('warning', 0, 0)).events.map(brief)).toEqual(['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3']);
    const escalated = r.decide(at('critical', 10 * MINUTE, 1)).events;
    expect(escalated.map(brief)).toEqual(['IncidentRepeated:duplicate', 'UpdatePagerPriority:P1', 'AddPagerNote', 'PostSlackMessage:reply:#alerts']);
    expect(escalated[0]!.data).toMatchObject({ notified: true, pager: { priority: 'P1', raisedFrom: 'P3' } });
    expect(escalated[1]).toMatchObject({ alias, data: { priority: 'P1', from: 'P3' } });
    expect((escalated[2]!.data as { note: string }).note).toBe('Page raised from P3 to P1: the alert now routes to a higher priority.');
    // Raised once: the state holds P1 now.
    expect(r.decide(at('critical', 20 * MINUTE, 2)).events.map(brief)).toEqual(['IncidentRepeated:duplicate']);
  });

  test('never lowered: a critical page stays P1 when its alert falls back to warning', () => {
    const r = new Replayer(rules);
    expect(r.decide(at('critical', 0, 0)).events.map(brief)).toContain('CreatePagerAlert:P1');
    const lower = r.decide(at('warning', 10 * MINUTE, 1)).events;
    expect(lower.map(brief)).toEqual(['IncidentRepeated:duplicate']);
    expect(lower[0]!.data).not.toHaveProperty('pager');
  });

  test('an acknowledged page is raised too: whoever took it sees it is worse now', () => {
    const r = new Replayer(rules);
    const opened = r.decide(at('warning', 0, 0)).events.find((e) => e.type === 'IncidentOpened')!;
    r.decide(buttonClick(alias, (opened.data as { incidentId: string }).incidentId, 'alertbus_ack', { at: MINUTE }));
    expect(r.decide(at('critical', 10 * MINUTE, 1)).events.map(brief)).toEqual(['IncidentRepeated:duplicate', 'UpdatePagerPriority:P1', 'AddPagerNote', 'PostSlackMessage:reply:#alerts']);
  });
});
