import { AlertmanagerPayload, normaliseAlertmanager } from '@alertbus/normalise';
import { webhookRoute } from './webhook';

/** POST /webhooks/alertmanager: Prometheus Alertmanager's webhook receiver (payload version 4). */
export const alertmanagerRoutes = webhookRoute('alertmanager', AlertmanagerPayload, normaliseAlertmanager);
