/**
 * Keeping a request's group fields once (on its first alert) instead of in every alert changes no decision:
 * the router reads the normalised fields, never raw. Checked over every real Alertmanager and Grafana
 * fixture, against the router's own decider and a rules file that uses labels, severities and inhibition.
 */
import { resolve } from 'node:path';
import type { AlertSource, Envelope } from '@alertbus/schemas';
import { decide, loadRules, type RouterState } from '@alertbus/routing';
import { fixture, fixtureNames } from '../../../../test/support/fixtures';
import type { AlertmanagerPayload } from '../payloads/alertmanager';
import type { GrafanaPayload } from '../payloads/grafana';
import { toAlertEnvelopes } from '../envelopes';
import { normaliseAlertmanager } from './alertmanager';
import { normaliseGrafana } from './grafana';
import type { NormaliseResult } from './result';

const rules = loadRules(resolve(__dirname, '../../../routing/testdata/rules.everything.yaml'), { defaultChannel: '#alerts' });

/** Every input decided in order, each alias with its own state, as the router's processor does. */
function decisions(inputs: ReadonlyArray<Envelope<'AlertReceived'>>): string {
  const states = new Map<string, RouterState | undefined>();
  return JSON.stringify(
    inputs.map((input) => {
      const d = decide(input, states.get(input.alias), rules);
      states.set(input.alias, d.state);
      return d.events;
    }),
  );
}

/** The events as ingest wrote them before: the group in every alert's raw, no request. */
function groupInEveryAlert(events: ReadonlyArray<Envelope<'AlertReceived'>>, group: object): Envelope<'AlertReceived'>[] {
  return events.map((e, i) => {
    const { request: _request, raw, ...data } = e.data;
    const alert = i === 0 ? (({ group: _g, ...rest }) => rest)(raw as { group: unknown }) : (raw as object);
    return { ...e, data: { ...data, raw: { ...alert, group } } };
  });
}

type Case = [AlertSource, string, (p: never) => NormaliseResult];
/** Every fixture but the malformed one, which is refused before anything is decided. */
const cases: Case[] = [
  ...fixtureNames('alertmanager')
    .filter((n) => !n.includes('malformed'))
    .map((n): Case => ['alertmanager', `alertmanager/${n}`, normaliseAlertmanager]),
  ...fixtureNames('grafana').map((n): Case => ['grafana', `grafana/${n}`, normaliseGrafana]),
];

test.each(cases)('%s %s: the same decisions with the group once as with the group in every alert', (source, path, normalise) => {
  const payload = fixture<AlertmanagerPayload | GrafanaPayload>(path);
  const result = normalise(payload as never);
  if (!result.ok) throw new Error(result.message);
  let n = 0;
  const recordedAt = '2026-05-01T12:00:00.000Z';
  const events = toAlertEnvelopes(result.alerts, { source, recordedAt, newId: () => `${path}#${++n}` });
  const { alerts: _alerts, ...group } = payload;

  const now = decisions(events);
  expect(now).toBe(decisions(groupInEveryAlert(events, group)));
  expect(JSON.parse(now).flat().length).toBeGreaterThan(0);
  // The group is there, once.
  expect(events.filter((e) => 'group' in (e.data.raw as object))).toHaveLength(1);
});
