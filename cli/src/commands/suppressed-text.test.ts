import { suppressedByText } from './suppressed-text';

const rule = { name: 'team channels', path: 'rules[1]' };

describe('suppressedByText', () => {
  it.each([
    [
      'a silence, with who and why',
      { reason: 'silenced', incident_id: null, rule, suppressed_by: { kind: 'silence', silenceId: 's-1', createdBy: 'alice', comment: 'db migration' } },
      'silence s-1 by alice ("db migration")',
    ],
    [
      'a maintenance window',
      { reason: 'silenced', incident_id: null, rule, suppressed_by: { kind: 'silence', silenceKind: 'maintenance', silenceId: 'm-1' } },
      'maintenance window m-1',
    ],
    [
      'an inhibiting incident',
      { reason: 'inhibited', incident_id: null, rule, suppressed_by: { kind: 'inhibition', incidentId: 'inc-1', alias: 'am:up', inhibitRule: 'upstream' } },
      'by incident inc-1 (am:up), inhibit rule "upstream"',
    ],
    [
      'an inhibiting alert that a silence keeps quiet itself',
      {
        reason: 'inhibited',
        incident_id: null,
        rule,
        suppressed_by: { kind: 'inhibition', alias: 'am:up', inhibitRule: 'upstream', source: { reason: 'silenced', title: 'Up', silenceId: 's-2' } },
      },
      'by am:up (silenced by silence s-2), inhibit rule "upstream"',
    ],
    [
      'a storm, by its summary message (the summary\'s own id is no incident to open)',
      {
        reason: 'storm-control',
        incident_id: 'inc-9',
        rule,
        suppressed_by: { kind: 'storm', summaryIncidentId: 'inc-s', channel: '#storm' },
        storm_summary: { alias: 'storm:#storm:2025-03-01T10:00:00.000Z', slack_channel: 'C0STORM', slack_ts: '1740823260.000300', pager_alert_id: null },
      },
      'storm in #storm: summary message C0STORM 1740823260.000300, incident inc-9',
    ],
    [
      'a storm paging through its one alert',
      {
        reason: 'storm-control',
        incident_id: 'inc-9',
        rule,
        suppressed_by: { kind: 'storm', summaryIncidentId: 'inc-s', channel: '#storm', pageGrouped: true },
        storm_summary: { alias: 'storm:#storm:2025-03-01T10:00:00.000Z', slack_channel: 'C0STORM', slack_ts: '1740823260.000300', pager_alert_id: 'page-1' },
      },
      'storm in #storm: summary message C0STORM 1740823260.000300, paged with the storm (page-1), incident inc-9',
    ],
    [
      'a storm whose summary Slack has not taken yet: its alias, to follow on /api/timeline',
      {
        reason: 'storm-control',
        incident_id: 'inc-9',
        rule,
        suppressed_by: { kind: 'storm', summaryIncidentId: 'inc-s', channel: '#storm' },
        storm_summary: { alias: 'storm:#storm:2025-03-01T10:00:00.000Z', slack_channel: null, slack_ts: null, pager_alert_id: null },
      },
      'storm in #storm (storm:#storm:2025-03-01T10:00:00.000Z), incident inc-9',
    ],
    [
      'a storm from an API that gave no storm_summary',
      { reason: 'storm-control', incident_id: 'inc-9', rule, suppressed_by: { kind: 'storm', summaryIncidentId: 'inc-s', channel: '#storm' } },
      'storm in #storm, incident inc-9',
    ],
    ['a drop rule by name', { reason: 'dropped-by-rule', incident_id: null, rule: { name: 'drop noisy', path: 'rules[0]' }, suppressed_by: null }, 'rule "drop noisy"'],
    ['a drop rule without a name', { reason: 'dropped-by-rule', incident_id: null, rule: { path: 'rules[0]' }, suppressed_by: null }, 'rule "rules[0]"'],
    ['a late copy of a resolved alert', { reason: 'occurrence-already-resolved', incident_id: 'inc-2', rule, suppressed_by: null }, 'incident inc-2'],
    ['nothing to say', { reason: 'bot-message', incident_id: null, rule, suppressed_by: null }, ''],
  ])('%s', (_what, s, text) => {
    expect(suppressedByText(s)).toBe(text);
  });
});
