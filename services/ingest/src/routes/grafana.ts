import { GrafanaPayload, normaliseGrafana } from '@alertbus/normalise';
import { webhookRoute } from './webhook';

/** POST /webhooks/grafana: Grafana unified alerting's webhook contact point. */
export const grafanaRoutes = webhookRoute('grafana', GrafanaPayload, normaliseGrafana);
