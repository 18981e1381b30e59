import type { AlertReceived, AlertSource, Link } from '@alertbus/schemas';
import type { AlertmanagerAlert } from '../payloads/alertmanager';
import { labelHash } from './alias';
import { linksOf } from './links';
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
  const { alerts, ...group } = payload;
  const out: NormalisedAlert[] = [];
  for (const [i, alert] of alerts.entries()) {
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
    const links: Link[] = linksOf([
      ['Source', alert.generatorURL],
      ['Runbook', annotations.runbook_url],
      ...(flavour.extraLinks?.(alert) ?? []),
      [flavour.externalTitle, group.externalURL],
    ]);
    const data: AlertReceived = {
      source: flavour.source,
      status,
      ...(fingerprint !== undefined ? { fingerprint } : {}),
      title: firstText(annotations.summary, labels.alertname) ?? 'alert',
      severity: severityOf(labels.severity),
      ...optional('description', firstText(annotations.description, annotations.message)),
      labels,
      annotations,
      ...optional('startsAt', startsAt?.original),
      ...optional('endsAt', endsAt?.original),
      links,
      ...optional('groupKey', group.groupKey),
      ...(flavour.extraData?.(alert) ?? {}),
      // The group's fields are kept once per request, with its first alert (see `request` on the event).
      raw: i === 0 ? { ...alert, group } : alert,
    };
    out.push({
      alias: `${flavour.source}:${fingerprint ?? labelHash(labels)}`,
      occurredAt: (status === 'firing' ? startsAt : endsAt)?.iso,
      data,
    });
  }
  return { ok: true, alerts: out };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
