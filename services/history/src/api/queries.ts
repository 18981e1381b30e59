/** Reads of the projection for the API, mapped back to the projection's own row types (camelCase, ISO times). */
import type { Pool } from 'pg';
import type { DeliveryRow, IncidentRow, TimelineRow } from '../projection/types';

export interface IncidentFilter {
  status?: string;
  source?: string;
  alias?: string;
  severity?: string;
  limit: number;
}

type DbRow = Record<string, unknown>;

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : (v as Date).toISOString());
const isoNN = (v: unknown): string => (v as Date).toISOString();
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

const INCIDENT_COLUMNS = `incident_id, alias, occurrence, previous_incident_id, title, severity, source, status, labels,
  description, links, count, opened_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, slack_channel,
  slack_root_ts, pager_alert_id, pager_priority, rule, last_event_at, updated_at`;

/** Newest first; incident_id breaks ties so pages never shuffle. */
export async function listIncidents(pool: Pool, f: IncidentFilter): Promise<IncidentRow[]> {
  const where: string[] = [];
  const values: unknown[] = [];
  const eq = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    values.push(value);
    where.push(`${column} = $${values.length}`);
  };
  eq('status', f.status);
  eq('source', f.source);
  eq('alias', f.alias);
  eq('severity', f.severity);
  values.push(f.limit);
  const { rows } = await pool.query(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY opened_at DESC, incident_id COLLATE "C" LIMIT $${values.length}`,
    values,
  );
  return rows.map(toIncident);
}

export async function getIncident(pool: Pool, incidentId: string): Promise<IncidentRow | null> {
  const { rows } = await pool.query(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE incident_id = $1`, [incidentId]);
  return rows[0] ? toIncident(rows[0]) : null;
}

/**
 * recordedAt first (the two topics are only ordered by time), then the record's position, which is unique:
 * a total order that is the same on every read and after every rebuild.
 */
export const TIMELINE_ORDER = `recorded_at, topic COLLATE "C", "partition", "offset", event_id COLLATE "C"`;

export async function getTimeline(pool: Pool, incidentId: string): Promise<TimelineRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM incident_timeline WHERE incident_id = $1 ORDER BY ${TIMELINE_ORDER}`,
    [incidentId],
  );
  return rows.map(toTimeline);
}

export async function getDeliveries(pool: Pool, incidentId: string): Promise<DeliveryRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM deliveries WHERE incident_id = $1 ORDER BY ${TIMELINE_ORDER}`,
    [incidentId],
  );
  return rows.map(toDelivery);
}

export function toIncident(r: DbRow): IncidentRow {
  return {
    incidentId: r.incident_id as string,
    alias: r.alias as string,
    occurrence: r.occurrence as number,
    previousIncidentId: str(r.previous_incident_id),
    title: r.title as string,
    severity: r.severity as string,
    source: r.source as string,
    status: r.status as IncidentRow['status'],
    labels: r.labels as IncidentRow['labels'],
    description: str(r.description),
    links: r.links as IncidentRow['links'],
    count: r.count as number,
    openedAt: isoNN(r.opened_at),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: str(r.acknowledged_by),
    resolvedAt: iso(r.resolved_at),
    resolvedBy: str(r.resolved_by),
    slackChannel: str(r.slack_channel),
    slackRootTs: str(r.slack_root_ts),
    pagerAlertId: str(r.pager_alert_id),
    pagerPriority: str(r.pager_priority),
    rule: r.rule as IncidentRow['rule'],
    lastEventAt: isoNN(r.last_event_at),
    updatedAt: isoNN(r.updated_at),
  };
}

export function toTimeline(r: DbRow): TimelineRow {
  return {
    eventId: r.event_id as string,
    incidentId: str(r.incident_id),
    alias: r.alias as string,
    type: r.type as string,
    topic: r.topic as string,
    partition: r.partition as number,
    offset: String(r.offset),
    occurredAt: isoNN(r.occurred_at),
    recordedAt: isoNN(r.recorded_at),
    source: r.source as string,
    causationId: str(r.causation_id),
    correlationId: r.correlation_id as string,
    reason: str(r.reason),
    rule: (r.rule ?? null) as TimelineRow['rule'],
    data: r.data,
  };
}

export function toDelivery(r: DbRow): DeliveryRow {
  return {
    eventId: r.event_id as string,
    commandId: r.command_id as string,
    commandType: r.command_type as string,
    incidentId: str(r.incident_id),
    type: r.type as string,
    target: r.target as DeliveryRow['target'],
    dryRun: r.dry_run as boolean,
    ok: r.ok as boolean,
    error: str(r.error),
    httpStatus: (r.http_status ?? null) as number | null,
    permanent: (r.permanent ?? null) as boolean | null,
    attempts: r.attempts as number,
    slackChannel: str(r.slack_channel),
    slackTs: str(r.slack_ts),
    slackThreadTs: str(r.slack_thread_ts),
    slackPurpose: (r.slack_purpose ?? null) as DeliveryRow['slackPurpose'],
    pagerProvider: str(r.pager_provider),
    pagerAlertId: str(r.pager_alert_id),
    pagerRequestId: str(r.pager_request_id),
    request: r.request ?? null,
    topic: r.topic as string,
    partition: r.partition as number,
    offset: String(r.offset),
    recordedAt: isoNN(r.recorded_at),
  };
}
