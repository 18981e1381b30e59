/**
 * The projection's rows as the API shows them (snake_case), with each timeline entry's stage named and the
 * events' data redacted for the reader (see redact.ts).
 */
import type { DeliveryRow, IncidentRow, SilenceRow, TimelineRow } from '@alertbus/projection';
import { checkMatchers } from '../silences/matchers';
import { silenceState } from '@alertbus/projection';
import { webhookUrlShown } from '@alertbus/common';
import { redact, type Reader } from './redact';

/**
 * An incident as the API shows it. Its texts are what senders wrote (title, description, labels, links), so credentials
 * in them are redacted for every reader, as in the timeline's events.
 */
export function incidentJson(r: IncidentRow, reader: Reader) {
  const shown = redact({ title: r.title, labels: r.labels, description: r.description, links: r.links }, reader) as Pick<
    IncidentRow,
    'title' | 'labels' | 'description' | 'links'
  >;
  return {
    incident_id: r.incidentId,
    alias: r.alias,
    occurrence: r.occurrence,
    previous_incident_id: r.previousIncidentId,
    title: shown.title,
    severity: r.severity,
    source: r.source,
    status: r.status,
    labels: shown.labels,
    description: shown.description,
    links: shown.links,
    count: r.count,
    opened_at: r.openedAt,
    started_at: r.startedAt,
    acknowledged_at: r.acknowledgedAt,
    acknowledged_by: r.acknowledgedBy,
    acknowledged_by_name: r.acknowledgedByName,
    acknowledged_in: r.acknowledgedIn,
    resolved_at: r.resolvedAt,
    resolved_by: r.resolvedBy,
    resolved_by_name: r.resolvedByName,
    resolved_in: r.resolvedIn,
    ended_at: r.endedAt,
    slack_channel: r.slackChannel,
    slack_target_channel: r.slackTargetChannel,
    slack_root_ts: r.slackRootTs,
    pager_alert_id: r.pagerAlertId,
    pager_priority: r.pagerPriority,
    storm_incident_id: r.stormIncidentId,
    storm_slack_ts: r.stormSlackTs,
    storm_pager_alert_id: r.stormPagerAlertId,
    rule: r.rule,
    last_event_at: r.lastEventAt,
    updated_at: r.updatedAt,
  };
}

export function timelineJson(r: TimelineRow, reader: Reader) {
  return {
    event_id: r.eventId,
    incident_id: r.incidentId,
    input_id: r.inputId,
    alias: r.alias,
    type: r.type,
    stage: r.stage,
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    occurred_at: r.occurredAt,
    recorded_at: r.recordedAt,
    source: r.source,
    causation_id: r.causationId,
    correlation_id: r.correlationId,
    reason: r.reason,
    rule: r.rule,
    data: commandWebhookShown(r.type, redact(r.data, reader), reader),
  };
}

/**
 * A rule's command webhook URL (CallCommandWebhook) is configuration that often carries its secret in the path: whole
 * for admins, without key-like path segments for everyone else (as the slack-sink logs and records it).
 */
function commandWebhookShown(type: string, data: unknown, reader: Reader): unknown {
  if (reader.admin || type !== 'CallCommandWebhook' || data === null || typeof data !== 'object') return data;
  const d = data as Record<string, unknown>;
  return typeof d.url === 'string' ? { ...d, url: webhookUrlShown(d.url) } : d;
}

export function deliveryJson(r: DeliveryRow, reader: Reader) {
  return {
    event_id: r.eventId,
    command_id: r.commandId,
    command_type: r.commandType,
    incident_id: r.incidentId,
    type: r.type,
    target: r.target,
    dry_run: r.dryRun,
    ok: r.ok,
    error: r.error === null ? null : (redact(r.error, reader) as string),
    http_status: r.httpStatus,
    permanent: r.permanent,
    attempts: r.attempts,
    slack_channel: r.slackChannel,
    slack_ts: r.slackTs,
    slack_thread_ts: r.slackThreadTs,
    slack_purpose: r.slackPurpose,
    pager_provider: r.pagerProvider,
    pager_alert_id: r.pagerAlertId,
    pager_request_id: r.pagerRequestId,
    request: redact(r.request, reader),
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    recorded_at: r.recordedAt,
  };
}

export function silenceJson(r: SilenceRow, nowMs: number) {
  return {
    silence_id: r.silenceId,
    kind: r.kind,
    matchers: r.matchers,
    starts_at: r.startsAt,
    ends_at: r.endsAt,
    created_by: r.createdBy,
    // Whoever reads the silences reads its comment, where a credential pasted by mistake is for nobody (as in the timeline).
    comment: redact(r.comment, { admin: false }) as string,
    created_at: r.createdAt,
    expired_at: r.expiredAt,
    expired_by: r.expiredBy,
    state: silenceState(r, nowMs),
    matches_all: isSilenceOfEverything(r.matchers),
  };
}

function isSilenceOfEverything(matchers: readonly string[]): boolean {
  const checked = checkMatchers(matchers);
  return checked.ok && checked.silencesEverything;
}
