/** Inhibition (testdata/rules.inhibit.yaml): while a source incident is open, matching targets with equal labels are muted. */
import type { Envelope } from '@alertbus/schemas';
import { compileRules } from '../rules/compile';
import { firing, MINUTE, resolved } from '../test-support/alerts';
import { brief, rulesFrom } from '../test-support/scenario';
import { Replayer } from './replay';
import { incidentIdOf } from './incident-id';

const rules = rulesFrom('rules.inhibit.yaml');

const crit = (alias: string, labels: Record<string, string>, at = 0) => firing(alias, { at, severity: 'critical', labels });
const warn = (alias: string, labels: Record<string, string>, at = 0) => firing(alias, { at, severity: 'warning', labels });
const latencyEu = { alertname: 'HighLatency', cluster: 'eu' };

/** Decides the history in order, then returns the brief outputs and the suppression of the last input. */
function run(inputs: Envelope<'AlertReceived'>[], r = new Replayer(rules)) {
  let last = r.decide(inputs[0]!);
  for (const input of inputs.slice(1)) last = r.decide(input);
  const suppressed = last.events.find((e) => e.type === 'EventSuppressed');
  return { out: last.events.map(brief), by: suppressed?.type === 'EventSuppressed' ? suppressed.data.suppressedBy : undefined, replayer: r };
}

describe('inhibition (rules.inhibit.yaml)', () => {
  test.each<[string, Envelope<'AlertReceived'>[], string[], string | null]>([
    ['a warning of the same alert and cluster as an open critical is muted', [crit('am:A', latencyEu), warn('am:B', latencyEu, MINUTE)], ['EventSuppressed:inhibited'], 'am:A'],
    ['another cluster is not', [crit('am:A', latencyEu), warn('am:C', { ...latencyEu, cluster: 'us' }, MINUTE)], ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3'], null],
    ['another alert is not', [crit('am:A', latencyEu), warn('am:D', { alertname: 'Other', cluster: 'eu' }, MINUTE)], ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3'], null],
    ['a critical is never a target', [crit('am:A', latencyEu), crit('am:A2', latencyEu, MINUTE)], ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P1'], null],
    ['the source resolved: the warning opens', [crit('am:A', latencyEu), resolved('am:A', { at: MINUTE, severity: 'critical', labels: latencyEu }), warn('am:B', latencyEu, 2 * MINUTE)], ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3'], null],
    ['a label in `equal` that both lack counts as equal', [crit('am:X', { alertname: 'Y' }), warn('am:W', { alertname: 'Y' }, MINUTE)], ['EventSuppressed:inhibited'], 'am:X'],
    ['a node down mutes every other alert of the node (unnamed rule)', [crit('am:N', { alertname: 'NodeDown', instance: 'n1' }), warn('am:E', { alertname: 'DiskFull', instance: 'n1' }, MINUTE)], ['EventSuppressed:inhibited'], 'am:N'],
    ['…but not of another node', [crit('am:N', { alertname: 'NodeDown', instance: 'n1' }), warn('am:E', { alertname: 'DiskFull', instance: 'n2' }, MINUTE)], ['IncidentOpened:first-notification', 'PostSlackMessage:root:#alerts', 'CreatePagerAlert:P3'], null],
    ['an open warning is muted from the moment the critical opens: its repeats are suppressed', [warn('am:B', latencyEu), crit('am:A', latencyEu, MINUTE), warn('am:B', latencyEu, 5 * 60 * MINUTE)], ['EventSuppressed:inhibited'], 'am:A'],
    ['a resolve is never inhibited: the muted warning still closes', [warn('am:B', latencyEu), crit('am:A', latencyEu, MINUTE), resolved('am:B', { at: 2 * MINUTE, severity: 'warning', labels: latencyEu })], ['IncidentResolved:resolved', 'PostSlackMessage:reply:#alerts', 'UpdateSlackMessage', 'ClosePagerAlert'], null],
  ])('%s', (_, inputs, want, by) => {
    const { out, by: suppressedBy } = run(inputs);
    expect(out).toEqual(want);
    if (by === null) expect(suppressedBy).toBeUndefined();
    else expect(suppressedBy).toMatchObject({ kind: 'inhibition', alias: by, incidentId: incidentIdOf(by, 1, inputs.find((i) => i.alias === by)!.id) });
  });

  test('the suppression names the inhibit rule (its name, else its path) and the inhibiting incident', () => {
    expect(run([crit('am:A', latencyEu), warn('am:B', latencyEu, MINUTE)]).by).toEqual({
      kind: 'inhibition',
      incidentId: incidentIdOf('am:A', 1, crit('am:A', latencyEu).id),
      alias: 'am:A',
      inhibitRule: 'critical-mutes-warnings',
    });
    expect(run([crit('am:N', { alertname: 'NodeDown', instance: 'n1' }), warn('am:E', { alertname: 'DiskFull', instance: 'n1' }, MINUTE)]).by).toMatchObject({
      inhibitRule: 'inhibit[1]',
    });
  });

  test('the earliest opened source inhibits when several could', () => {
    const { by } = run([crit('am:Z', latencyEu, 2 * MINUTE), crit('am:A', latencyEu, 3 * MINUTE), warn('am:B', latencyEu, 4 * MINUTE)]);
    expect(by).toMatchObject({ alias: 'am:Z' });
  });

  test('equal alerts matching both sides never mute each other', () => {
    const r = compileRules(
      'inhibit:\n  - source_match: [\'alertname="Flap"\']\n    target_match: [\'alertname="Flap"\']\n    equal: [cluster]\n',
      'flap.yaml',
      { defaultChannel: '#alerts' },
    );
    if (!r.ok) throw new Error(r.message);
    const { out } = run([warn('am:F1', { alertname: 'Flap', cluster: 'eu' }), warn('am:F2', { alertname: 'Flap', cluster: 'eu' }, MINUTE)], new Replayer(r.rules));
    expect(out[0]).toBe('IncidentOpened:first-notification');
  });

  test('an inhibited alert opens nothing: once the source resolves, its next firing opens an incident', () => {
    const { replayer } = run([crit('am:A', latencyEu), warn('am:B', latencyEu, MINUTE)]);
    expect(replayer.state('am:B')).toBeUndefined();
    replayer.decide(resolved('am:A', { at: 2 * MINUTE, severity: 'critical', labels: latencyEu }));
    expect(replayer.decide(warn('am:B', latencyEu, 3 * MINUTE)).events.map(brief)[0]).toBe('IncidentOpened:first-notification');
  });
});
