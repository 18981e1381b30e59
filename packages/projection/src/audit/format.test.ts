/** The audit's one-line summaries answer "why was this muted?" from the suppression itself. */
import type { AnyEnvelope } from '@alertbus/schemas';
import { summarize } from './format';

const rule = { path: 'defaults', rulesVersion: 'abc' };
const suppressed = (suppressedBy: Record<string, unknown>) =>
  ({ type: 'EventSuppressed', data: { inputId: 'in-1', inputType: 'AlertReceived', reason: 'inhibited', rule, suppressedBy } }) as unknown as AnyEnvelope;

test('an input inhibited by a silenced source names the source, its alias and the silence', () => {
  const text = summarize(
    suppressed({ kind: 'inhibition', alias: 'am:cluster-eu', inhibitRule: 'cluster-down-mutes-services', source: { reason: 'silenced', title: 'ClusterDown eu', silenceId: 's1' } }),
  );
  expect(text).toContain('inhibited by "ClusterDown eu" (alias am:cluster-eu), itself silenced by silence s1, inhibit rule cluster-down-mutes-services');
});

test('…by a dropped source, the drop rule; by an open incident, the incident', () => {
  expect(summarize(suppressed({ kind: 'inhibition', alias: 'am:c', inhibitRule: 'r', source: { reason: 'dropped-by-rule', title: 'ClusterDown lab', dropRule: 'drop-lab' } }))).toContain(
    'itself dropped by rule drop-lab',
  );
  expect(summarize(suppressed({ kind: 'inhibition', alias: 'am:c', incidentId: 'inc-1', inhibitRule: 'r' }))).toContain('inhibited by incident inc-1 (alias am:c), inhibit rule r');
});

test('an incident storm control gathered names the storm: its summary, channel, start and page', () => {
  const storm = { kind: 'storm', channel: '#storm', summaryIncidentId: 'storm-1', since: '2025-03-01T10:00:00.000Z', threshold: 5, window: '1m' };
  expect(summarize(suppressed({ ...storm, pageGrouped: true }))).toContain(
    "gathered into the storm summary in #storm (alias storm:#storm:2025-03-01T10:00:00.000Z; storm since 2025-03-01T10:00:00.000Z, more than 5 in 1m), paged by the storm's page",
  );
  expect(summarize(suppressed(storm))).not.toContain("storm's page");
});

describe('an alert whose text ingest cut says so, and how much', () => {
  const alert = (cut?: unknown[]) =>
    ({ type: 'AlertReceived', data: { source: 'alertmanager', status: 'firing', title: 'CPU throttling', severity: 'warning', ...(cut ? { cut } : {}) } }) as unknown as AnyEnvelope;

  test('which texts and how many characters each lost; raw left out by its size', () => {
    const text = summarize(alert([{ field: 'description', characters: 12_345 }, { field: 'labels.pod_name', characters: 7 }, { field: 'raw', omittedBytes: 1_048_576 }]));
    expect(text).toBe('alertmanager firing "CPU throttling" severity warning — cut by ingest: description 12,345 characters, labels.pod_name 7 characters, raw left out (1,048,576 bytes)');
  });

  test('the description and the annotation it was taken from, cut alike, are one loss named once', () => {
    const text = summarize(alert([{ field: 'description', characters: 25_025 }, { field: 'annotations.description', characters: 25_025 }, { field: 'annotations.runbook', characters: 9 }]));
    expect(text).toContain('cut by ingest: description 25,025 characters, annotations.runbook 9 characters');
  });

  test('nothing cut, nothing said; many cuts, the first named and the rest counted', () => {
    expect(summarize(alert())).toBe('alertmanager firing "CPU throttling" severity warning');
    const many = summarize(alert(Array.from({ length: 40 }, (_, i) => ({ field: `labels.${'x'.repeat(100)}${i}`, characters: 1 }))));
    expect(many).toContain(', and 34 more');
    expect(many.length).toBeLessThan(500);
  });
});

test('a pager action forwarded from a templated pager alias says from which alias and which action, to which incident; a link says where the alias leads', () => {
  const forwarded = {
    type: 'PagerActionForwarded',
    alias: 'alertmanager:abc',
    data: { provider: 'opsgenie', action: 'Close', alertId: 'a-1', pagerAlias: 'team-db', user: 'pager-person', receivedId: 'r-1', incidentId: 'i-1' },
  };
  expect(summarize(forwarded as unknown as AnyEnvelope)).toBe('opsgenie Close by pager-person on alert a-1 (alias team-db), forwarded from r-1 to incident i-1');
  const link = { type: 'PagerAliasLinked', alias: 'team-db', data: { pagerAlias: 'team-db', alias: 'alertmanager:abc', incidentId: 'i-1' } };
  expect(summarize(link as unknown as AnyEnvelope)).toBe('pager alias team-db leads to incident i-1 (alias alertmanager:abc)');
});

test('an action taken in the pager says which pager, what, by whom, on which alert, and which token sent it', () => {
  const action = { type: 'PagerActionReceived', alias: 'alertmanager:abc', data: { provider: 'opsgenie', action: 'Acknowledge', alertId: 'a-1', pagerAlias: 'alertmanager:abc', user: 'pager-person', authenticatedAs: 'opsgenie', raw: {} } };
  expect(summarize(action as unknown as AnyEnvelope)).toBe('opsgenie Acknowledge by pager-person on alert a-1, sent with token opsgenie');
  expect(summarize({ ...action, data: { ...action.data, user: undefined, authenticatedAs: undefined, provider: 'jsm', action: 'Close' } } as unknown as AnyEnvelope)).toBe('jsm Close by someone on alert a-1');
});

test('who acknowledged or resolved: by name with the id, the id alone when there is no name or it is the name', () => {
  const decided = (type: string, data: Record<string, unknown>) => ({ type, data: { reason: 'acknowledged', rule, ...data } }) as unknown as AnyEnvelope;
  expect(summarize(decided('IncidentAcknowledged', { by: 'U012ABCDEF', byName: 'Alice Martin' }))).toMatch(/^by Alice Martin \(U012ABCDEF\) \[acknowledged\]/);
  expect(summarize(decided('IncidentResolved', { by: 'U012ABCDEF' }))).toMatch(/^by U012ABCDEF \[acknowledged\]/);
  expect(summarize(decided('IncidentResolved', { by: 'jane@example.com', byName: 'jane@example.com' }))).toMatch(/^by jane@example\.com \[acknowledged\]/);
});
