/** Builders for the events of one incident's life, valid against the schemas, for the projection's specifications. */
import { deriveId, makeEnvelope, type Envelope, type RuleRef } from '@alertbus/schemas';

export const ALIAS = 'alertmanager:3f2a9c1d0b7e4a55';
export const RULE: RuleRef = { path: 'rules[0]', name: 'infra critical', rulesVersion: 'sha256:1111' };
export const INCIDENT_ID = deriveId('incident', ALIAS, 1);
export const INPUT_ID = 'input-1';

const ROUTER = 'router';
const t = (minute: number, second = 0) =>
  `2025-03-01T10:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}.000Z`;

const base = (incidentId = INCIDENT_ID, occurrence = 1) => ({
  incidentId,
  occurrence,
  title: 'HighErrorRate api',
  severity: 'critical',
  source: 'alertmanager',
  rule: RULE,
  inputId: INPUT_ID,
  labels: { alertname: 'HighErrorRate', service: 'api' },
});

export function opened(opts: { at?: number; incidentId?: string; occurrence?: number; previous?: string; startsAt?: string } = {}): Envelope<'IncidentOpened'> {
  const at = t(opts.at ?? 0);
  const incidentId = opts.incidentId ?? INCIDENT_ID;
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'opened', incidentId),
    type: opts.previous ? 'IncidentReopened' : 'IncidentOpened',
    alias: ALIAS,
    occurredAt: at,
    recordedAt: at,
    source: ROUTER,
    data: {
      ...base(incidentId, opts.occurrence ?? 1),
      status: 'open',
      count: 1,
      reason: opts.previous ? 'reopened' : 'first-notification',
      description: 'error rate above 5% for 10m',
      links: [{ title: 'runbook', url: 'https://runbooks.example/api' }],
      openedAt: at,
      slack: { channel: '#alerts' },
      pager: { priority: 'P1' },
      ...(opts.previous ? { previousIncidentId: opts.previous } : {}),
      ...(opts.startsAt !== undefined ? { startsAt: opts.startsAt } : {}),
    },
  }) as Envelope<'IncidentOpened'>;
}

export function repeated(count: number, at: number): Envelope<'IncidentRepeated'> {
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'repeated', count),
    type: 'IncidentRepeated',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: ROUTER,
    data: { ...base(), status: 'open', count, reason: 'duplicate', notified: false },
  });
}

export function updated(at: number): Envelope<'IncidentUpdated'> {
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'updated', at),
    type: 'IncidentUpdated',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: ROUTER,
    data: {
      ...base(),
      title: 'HighErrorRate api (eu-west-1)',
      severity: 'warning',
      status: 'open',
      count: 1,
      reason: 'updated',
      changes: { severity: 'warning', description: 'error rate above 2%' },
    },
  });
}

/** An acknowledgement by a person in Slack, or in a pager (`provider`: `by` is then the pager's username). */
export function acknowledged(at: number, by = 'alice', byName?: string, provider?: 'opsgenie' | 'jsm'): Envelope<'IncidentAcknowledged'> {
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'acknowledged', at),
    type: 'IncidentAcknowledged',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: ROUTER,
    data: { ...base(), status: 'acknowledged', count: 1, reason: 'acknowledged', acknowledgedAt: t(at), by, ...(byName !== undefined ? { byName } : {}), ...(provider !== undefined ? { provider } : {}) },
  });
}

export function unacknowledged(at: number, by = 'bob'): Envelope<'IncidentUnacknowledged'> {
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'unacknowledged', at),
    type: 'IncidentUnacknowledged',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: ROUTER,
    data: { ...base(), status: 'open', count: 1, reason: 'unacknowledged', unacknowledgedAt: t(at), by, provider: 'opsgenie' },
  });
}

/** A resolve by its source (with the sender's `endsAt` when given), or by a person (`by`, and by name `byName`). */
export function resolved(at: number, count = 1, opts: { endsAt?: string; by?: string; byName?: string; provider?: 'opsgenie' | 'jsm' } = {}): Envelope<'IncidentResolved'> {
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'resolved', at),
    type: 'IncidentResolved',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: ROUTER,
    data: {
      ...base(),
      status: 'resolved',
      count,
      reason: 'resolved',
      resolvedAt: t(at),
      ...(opts.endsAt !== undefined ? { endsAt: opts.endsAt } : {}),
      ...(opts.by !== undefined ? { by: opts.by } : {}),
      ...(opts.byName !== undefined ? { byName: opts.byName } : {}),
      ...(opts.provider !== undefined ? { provider: opts.provider } : {}),
    },
  });
}

export function suppressed(at: number, incidentId?: string): Envelope<'EventSuppressed'> {
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'suppressed', at),
    type: 'EventSuppressed',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: ROUTER,
    data: {
      inputId: `input-${at}`,
      inputType: 'AlertReceived',
      reason: 'silenced',
      rule: RULE,
      ...(incidentId ? { incidentId } : {}),
    },
  });
}

const SINK = 'slack-sink';

export function slackPosted(
  purpose: 'root' | 'reply',
  at: number,
  opts: { ts?: string; channel?: string; incidentId?: string } = {},
): Envelope<'SlackMessagePosted'> {
  const ts = opts.ts ?? (purpose === 'root' ? '1740823200.000100' : `1740823${200 + at}.000200`);
  return makeEnvelope({
    id: deriveId('cmd', purpose, ts, 'posted'),
    type: 'SlackMessagePosted',
    alias: ALIAS,
    occurredAt: t(at, 1),
    recordedAt: t(at, 1),
    source: SINK,
    data: {
      commandId: deriveId('cmd', purpose, ts),
      commandType: 'PostSlackMessage',
      incidentId: opts.incidentId ?? INCIDENT_ID,
      dryRun: false,
      attempts: 1,
      channel: opts.channel ?? 'C0123ALERTS',
      ts,
      purpose,
      ...(purpose === 'reply' ? { threadTs: '1740823200.000100' } : {}),
    },
  });
}

/** alertId null: a dry run, which has no alert id. */
export function pagerCreated(at: number, alertId: string | null = 'a1b2c3d4-alert'): Envelope<'PagerAlertCreated'> {
  return makeEnvelope({
    id: deriveId('cmd', 'create-alert', at, 'created'),
    type: 'PagerAlertCreated',
    alias: ALIAS,
    occurredAt: t(at, 2),
    recordedAt: t(at, 2),
    source: 'opsgenie-sink',
    data: {
      commandId: deriveId('cmd', 'create-alert', at),
      commandType: 'CreatePagerAlert',
      incidentId: INCIDENT_ID,
      dryRun: alertId === null,
      attempts: 1,
      provider: 'opsgenie',
      requestId: 'req-1',
      ...(alertId !== null ? { alertId } : {}),
    },
  });
}

export function deliveryFailed(at: number): Envelope<'DeliveryFailed'> {
  return makeEnvelope({
    id: deriveId('cmd', 'close-alert', at, 'failed'),
    type: 'DeliveryFailed',
    alias: ALIAS,
    occurredAt: t(at, 3),
    recordedAt: t(at, 3),
    source: 'opsgenie-sink',
    data: {
      commandId: deriveId('cmd', 'close-alert', at),
      commandType: 'ClosePagerAlert',
      incidentId: INCIDENT_ID,
      target: 'pager',
      error: 'Opsgenie answered 422: alert does not exist',
      httpStatus: 422,
      permanent: true,
      attempts: 1,
    },
  });
}

// ---------------------------------------------------------------- inputs, commands, silences

/** The AlertReceived a decision names by `inputId`. */
export function received(inputId = INPUT_ID, at = 0, status: 'firing' | 'resolved' = 'firing'): Envelope<'AlertReceived'> {
  return makeEnvelope({
    id: inputId,
    type: 'AlertReceived',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: 'ingest/alertmanager',
    data: {
      source: 'alertmanager',
      status,
      fingerprint: '3f2a9c1d0b7e4a55',
      title: 'HighErrorRate api',
      severity: 'critical',
      labels: { alertname: 'HighErrorRate', service: 'api' },
      annotations: { summary: 'error rate above 5%' },
      links: [],
      raw: { status, labels: { alertname: 'HighErrorRate' } },
    },
  });
}

export function postRoot(at = 0): Envelope<'PostSlackMessage'> {
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'PostSlackMessage', at),
    type: 'PostSlackMessage',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: ROUTER,
    causationId: INPUT_ID,
    correlationId: INPUT_ID,
    data: { incidentId: INCIDENT_ID, rule: RULE, channel: '#alerts', purpose: 'root', text: 'HighErrorRate api' },
  });
}

export function createPage(at = 0): Envelope<'CreatePagerAlert'> {
  return makeEnvelope({
    id: deriveId(INPUT_ID, 'CreatePagerAlert', at),
    type: 'CreatePagerAlert',
    alias: ALIAS,
    occurredAt: t(at),
    recordedAt: t(at),
    source: ROUTER,
    causationId: INPUT_ID,
    correlationId: INPUT_ID,
    data: {
      incidentId: INCIDENT_ID,
      rule: RULE,
      message: 'HighErrorRate api',
      priority: 'P1',
      tags: [],
      responders: [{ type: 'team', name: 'sre' }],
      details: {},
      source: 'alertbus/alertmanager',
    },
  });
}

export const SILENCE_ID = 'silence-1';

export function silenceCreated(at = 0, opts: { id?: string; endsAt?: string } = {}): Envelope<'SilenceCreated'> {
  const id = opts.id ?? SILENCE_ID;
  return makeEnvelope({
    id: deriveId('silence', id, 'created'),
    type: 'SilenceCreated',
    alias: `silence:${id}`,
    occurredAt: t(at),
    recordedAt: t(at),
    source: 'history-api',
    data: {
      silenceId: id,
      matchers: ['team="db"', 'severity!="info"'],
      startsAt: t(at),
      endsAt: opts.endsAt ?? t(at + 30),
      createdBy: 'alice',
      comment: 'database upgrade',
      kind: 'maintenance',
    },
  });
}

export function silenceExpired(at: number, id = SILENCE_ID, by = 'bob'): Envelope<'SilenceExpired'> {
  return makeEnvelope({
    id: deriveId('silence', id, 'expired', at),
    type: 'SilenceExpired',
    alias: `silence:${id}`,
    occurredAt: t(at),
    recordedAt: t(at),
    source: 'history-api',
    data: { silenceId: id, expiredBy: by, expiredAt: t(at) },
  });
}
