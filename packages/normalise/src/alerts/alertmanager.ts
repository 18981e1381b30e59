import type { AlertmanagerPayload } from '../payloads/alertmanager';
import { normaliseGroup } from './alert-group';
import type { NormaliseResult } from './result';

/** Alertmanager webhook v4 → one AlertReceived per alert, aliased by fingerprint (or label hash). */
export function normaliseAlertmanager(payload: AlertmanagerPayload): NormaliseResult {
  const group = payload as AlertmanagerPayload & { version?: unknown; orgId?: unknown };
  // Grafana's webhook is Alertmanager's shape with version "1" and an orgId. Taken here, its alerts would be aliased
  // `alertmanager:…` (a second incident beside the one its own endpoint makes) and its values and links dropped.
  if (group.version === '1' && group.orgId !== undefined) {
    return {
      ok: false,
      field: 'body/version',
      message:
        'this is a Grafana webhook (version "1" with an orgId), posted to /webhooks/alertmanager: set the contact point\'s URL to /webhooks/grafana',
    };
  }
  return normaliseGroup(payload, { source: 'alertmanager', externalTitle: 'Alertmanager' });
}
