import type { AlertmanagerPayload } from '../payloads/alertmanager';
import { normaliseGroup } from './alert-group';
import type { NormaliseResult } from './result';

/** Alertmanager webhook v4 → one AlertReceived per alert, aliased by fingerprint (or label hash). */
export function normaliseAlertmanager(payload: AlertmanagerPayload): NormaliseResult {
  return normaliseGroup(payload, { source: 'alertmanager', externalTitle: 'Alertmanager' });
}
