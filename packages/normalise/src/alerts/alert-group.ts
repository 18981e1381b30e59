import type { AlertReceived, AlertSource, Link } from '@alertbus/schemas';
import type { AlertmanagerAlert } from '../payloads/alertmanager';
import { labelHash } from './alias';
import { boundAlertText } from './bounds';
import { addLink } from './links';
import type { NormaliseResult, NormalisedAlert } from './result';
import { firstText, severityOf } from './text';
import { sourceTime } from './time';

/** The group-level fields both Alertmanager and Grafana send around their `alerts`. */
export interface AlertGroup<A extends AlertmanagerAlert> {
  status?: 'firing' | 'resolved';
  groupKey?: string;
  externalURL?: string;
  alerts: A[];
}

/** What differs per source: the prefix, extra links and extra data fields. */
export interface GroupFlavour<A extends AlertmanagerAlert> {
  source: Extract<AlertSource, 'alertmanager' | 'grafana'>;
  externalTitle: string;
  extraLinks?: (alert: A) => Array<readonly [string, string | undefined]>;
  extraData?: (alert: A) => Partial<AlertReceived>;
}

/**
 * Normalises an Alertmanager-shaped group into one alert per entry, each with its OWN status (a firing
 * group can carry resolved alerts), falling back to the group's status for old senders that omit it.
 */
export function normaliseGroup<A extends AlertmanagerAlert>(
  payload: AlertGroup<A>,
  flavour: GroupFlavour<A>,
): NormaliseResult {
  const alerts = payload.alerts;
  const group = groupFields(payload);
  const out: NormalisedAlert[] = [];
  for (let i = 0; i < alerts.length; i++) {
    const alert = alerts[i]!;
    const status = alert.status ?? group.status;
    if (status === undefined) {
      return {
        ok: false,
        field: `body/alerts/${i}/status`,
        message: `body/alerts/${i}/status is missing and the group has no status to fall back on (expected firing or resolved)`,
      };
    }
    const labels = alert.labels;
    const annotations = alert.annotations ?? {};
    const startsAt = sourceTime(alert.startsAt);
    const endsAt = sourceTime(alert.endsAt);
    const fingerprint = firstText(alert.fingerprint);
    const links: Link[] = [];
    addLink(links, 'Source', alert.generatorURL);
    addLink(links, 'Runbook', annotations.runbook_url);
    if (flavour.extraLinks) for (const [title, url] of flavour.extraLinks(alert)) addLink(links, title, url);
    addLink(links, flavour.externalTitle, group.externalURL);
    // Set field by field in the event's key order (no object made and spread per optional field).
    const data: Record<string, unknown> = { source: flavour.source, status };
    if (fingerprint !== undefined) data.fingerprint = fingerprint;
    data.title = firstText(annotations.summary, labels.alertname) ?? 'alert';
    data.severity = severityOf(labels.severity);
    const description = firstText(annotations.description, annotations.message);
    if (description !== undefined) data.description = description;
    data.labels = labels;
    data.annotations = annotations;
    if (startsAt !== undefined) data.startsAt = startsAt.original;
    if (endsAt !== undefined) data.endsAt = endsAt.original;
    data.links = links;
    if (group.groupKey !== undefined) data.groupKey = group.groupKey;
    const extra = flavour.extraData?.(alert);
    if (extra) Object.assign(data, extra);
    // The group's fields are kept once per request, with its first alert (see `request` on the event).
    data.raw = i === 0 ? { ...alert, group } : alert;
    out.push({
      alias: `${flavour.source}:${fingerprint ?? labelHash(labels)}`,
      occurredAt: (status === 'firing' ? startsAt : endsAt)?.iso,
      // Text cut to what the sinks can show; the alias and the links were made from it whole.
      data: boundAlertText(data as AlertReceived),
    });
  }
  return { ok: true, alerts: out };
}

/** Every field of the group but its alerts, in order (a rest pattern, `{ alerts, ...group }`, took several µs a request). */
function groupFields<A extends AlertmanagerAlert>(payload: AlertGroup<A>): Omit<AlertGroup<A>, 'alerts'> {
  const group: Record<string, unknown> = {};
  for (const key in payload) if (key !== 'alerts' && Object.prototype.hasOwnProperty.call(payload, key)) group[key] = payload[key as keyof AlertGroup<A>];
  return group as Omit<AlertGroup<A>, 'alerts'>;
}
