import type { GrafanaAlert, GrafanaPayload } from '../payloads/grafana';
import { normaliseGroup } from './alert-group';
import type { NormaliseResult } from './result';

/** Grafana unified alerting → one AlertReceived per alert, keeping its values and its Grafana URLs. */
export function normaliseGrafana(payload: GrafanaPayload): NormaliseResult {
  return normaliseGroup<GrafanaAlert>(payload, {
    source: 'grafana',
    externalTitle: 'Grafana',
    extraLinks: (a) => [
      ['Dashboard', a.dashboardURL],
      ['Panel', a.panelURL],
      ['Silence', a.silenceURL],
      ['Image', a.imageURL],
    ],
    extraData: (a) => (a.values ? { values: a.values } : {}),
  });
}
