import type { GrafanaAlert, GrafanaPayload } from '../payloads/grafana';
import { normaliseGroup } from './alert-group';
import type { NormaliseResult } from './result';

/** Grafana unified alerting → one AlertReceived per alert, keeping its values and its Grafana URLs. */
export function normaliseGrafana(payload: GrafanaPayload): NormaliseResult {
  const group = payload as GrafanaPayload & { version?: unknown; orgId?: unknown };
  // Alertmanager's webhook (version "4", no orgId), taken here, would be aliased `grafana:…`: a second incident beside
  // the one its own endpoint makes for the same alert.
  if (group.version === '4' && group.orgId === undefined) {
    return {
      ok: false,
      field: 'body/version',
      message: 'this is an Alertmanager webhook (version "4", no orgId), posted to /webhooks/grafana: set the receiver\'s url to /webhooks/alertmanager',
    };
  }
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
