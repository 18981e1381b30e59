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
      'a storm',
      { reason: 'storm-control', incident_id: 'inc-9', rule, suppressed_by: { kind: 'storm', summaryIncidentId: 'inc-s', channel: '#storm' } },
      'storm summary inc-s in #storm, incident inc-9',
    ],
    ['a drop rule by name', { reason: 'dropped-by-rule', incident_id: null, rule: { name: 'drop noisy', path: 'rules[0]' }, suppressed_by: null }, 'rule "drop noisy"'],
    ['a drop rule without a name', { reason: 'dropped-by-rule', incident_id: null, rule: { path: 'rules[0]' }, suppressed_by: null }, 'rule "rules[0]"'],
    ['a late copy of a resolved alert', { reason: 'occurrence-already-resolved', incident_id: 'inc-2', rule, suppressed_by: null }, 'incident inc-2'],
    ['nothing to say', { reason: 'bot-message', incident_id: null, rule, suppressed_by: null }, ''],
  ])('%s', (_what, s, text) => {
    expect(suppressedByText(s)).toBe(text);
  });
});
