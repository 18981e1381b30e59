import type { AlertReceived } from '@alertbus/schemas';
import type { GenericAlert, GenericPayload } from '../payloads/generic';
import { labelHash } from './alias';
import { boundAlertText } from './bounds';
import { linksOf } from './links';
import type { NormaliseResult, NormalisedAlert } from './result';
import { firstText, severityOf } from './text';
import { sourceTime } from './time';

/** alertbus's own webhook shape (one alert, or `{ alerts: [...] }`) → one AlertReceived per alert. */
export function normaliseGeneric(payload: GenericPayload): NormaliseResult {
  const batch = 'alerts' in payload && Array.isArray(payload.alerts);
  const alerts: GenericAlert[] = batch ? (payload as { alerts: GenericAlert[] }).alerts : [payload as GenericAlert];
  const group: Record<string, unknown> = {};
  if (batch) for (const [k, v] of Object.entries(payload)) if (k !== 'alerts') group[k] = v;
  return { ok: true, alerts: alerts.map((a, i) => normaliseOne(a, i === 0 ? group : undefined)) };
}

/** `group` is given to the request's first alert only: the request's other fields are kept once. */
function normaliseOne(alert: GenericAlert, group: Record<string, unknown> | undefined): NormalisedAlert {
  const labels = alert.labels ?? {};
  const occurred = sourceTime(alert.occurredAt);
  const data: AlertReceived = {
    source: 'generic',
    status: alert.status ?? 'firing',
    // A title of blanks shows nothing in Slack: the alert name stands in, as for Alertmanager's blank summary.
    title: firstText(alert.title, labels.alertname) ?? 'alert',
    severity: severityOf(alert.severity, labels.severity),
    ...(alert.description !== undefined && alert.description !== '' ? { description: alert.description } : {}),
    labels,
    annotations: alert.annotations ?? {},
    links: linksOf((alert.links ?? []).map((l) => [l.title, l.url] as const)),
    raw: group ? { ...alert, group } : alert,
  };
  return {
    alias: `generic:${alert.alias ?? labelHash(labels, alert.title)}`,
    occurredAt: occurred?.iso,
    // Text cut to what the sinks can show; the alias was made from it whole.
    data: boundAlertText(data),
  };
}
