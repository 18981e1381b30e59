import { GrafanaPayload, normaliseGrafana } from '@alertbus/normalise';
import { webhookRoute } from './webhook';

/**
 * Grafana's legacy (pre-unified) alerting sent one rule's state (`ruleName`, `evalMatches`, no `alerts`); removed in
 * Grafana 11. Said so, instead of the schema's "must have required property 'alerts'".
 */
function legacyAlerting(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || 'alerts' in body) return undefined;
  if (!('ruleName' in body) && !('evalMatches' in body)) return undefined;
  return "this is a legacy Grafana alerting webhook (ruleName, evalMatches, no alerts): alertbus takes unified alerting's; send it from a unified alerting contact point of type webhook";
}

/** POST /webhooks/grafana: Grafana unified alerting's webhook contact point. */
export const grafanaRoutes = webhookRoute('grafana', GrafanaPayload, normaliseGrafana, legacyAlerting);
