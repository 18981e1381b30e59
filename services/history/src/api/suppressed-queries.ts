/**
 * What alertbus kept quiet over a window: the EventSuppressed decisions of the timeline, newest first, each with the
 * alert it kept quiet as the event (or else its received input) describes it, and the counts by reason.
 */
import type { Pool } from 'pg';
import type { RuleRef } from '@alertbus/schemas';
import { keysetPage } from './cursor';
import { afterPosition, exactTime, listDigest, readListCursor, type ListCursor, type Page } from './queries';

export interface SuppressedFilter {
  /** recorded_at >= from (an instant, ISO). */
  from: string;
  /** recorded_at < to (an instant, ISO). */
  to: string;
  reason?: string;
  alias?: string;
  limit: number;
}

export interface SuppressedRow {
  eventId: string;
  recordedAt: string;
  alias: string;
  reason: string;
  inputType: string | null;
  inputId: string | null;
  incidentId: string | null;
  rule: RuleRef | null;
  suppressedBy: unknown;
  title: string | null;
  severity: string | null;
  labels: unknown;
  /** For a storm suppression, what the history holds of the storm; null for the other reasons. */
  stormSummary: StormSummary | null;
}

/**
 * What the history holds of a storm an incident was gathered into. The summary's incident id (suppressedBy) is no
 * incident of its own (no row, no /api/incidents/{id}): its commands and deliveries are under the storm's alias, and
 * the member's row holds the summary message and the storm's page as /api/incidents/{id} shows them.
 */
export interface StormSummary {
  /** The storm's alias (GET /api/timeline?alias=): null until something of the storm is projected. */
  alias: string | null;
  slackChannel: string | null;
  slackTs: string | null;
  /** The storm's one pager alert, when this incident pages through it. */
  pagerAlertId: string | null;
}

export interface ReasonCount {
  reason: string;
  count: number;
}

/** What a page's cursor holds besides its position: the window of the first page, so "the last 24 h" stays one window. */
export interface SuppressedCursor extends ListCursor {
  a: string;
  b: string;
}

export const SUPPRESSED_LIST = 'suppressed by recorded_at desc, event_id';

/**
 * The window of a page: a cursor's own (checked against `filters`, the query as given, so a cursor of other filters is
 * refused with BadCursorError), else the one asked for.
 */
export function pageWindow(cursor: string | undefined, filters: object, window: { from: string; to: string }) {
  const digest = listDigest(SUPPRESSED_LIST, filters);
  if (cursor === undefined) return { digest, position: null, ...window };
  const c = readListCursor(cursor, digest);
  const from = typeof c.a === 'string' && !Number.isNaN(Date.parse(c.a)) ? c.a : window.from;
  const to = typeof c.b === 'string' && !Number.isNaN(Date.parse(c.b)) ? c.b : window.to;
  return { digest, position: c as ListCursor, from, to };
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const isStorm = (by: unknown): boolean => by !== null && typeof by === 'object' && (by as { kind?: unknown }).kind === 'storm';

/**
 * Newest first, event_id breaking ties. The alert's title, severity and labels are the event's own where it has them
 * (title always, severity and labels where it keeps the firing as an inhibitor), else those of the alert it decided on.
 */
export async function listSuppressed(
  pool: Pool,
  f: SuppressedFilter,
  page: { digest: string; position: ListCursor | null },
): Promise<Page<SuppressedRow>> {
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = [`t.type = 'EventSuppressed'`, `t.recorded_at >= ${param(f.from)}::timestamptz`, `t.recorded_at < ${param(f.to)}::timestamptz`];
  if (f.reason !== undefined) where.push(`t.reason = ${param(f.reason)}`);
  if (f.alias !== undefined) where.push(`t.alias = ${param(f.alias)}`);
  if (page.position) where.push(afterPosition(page.position, 't.recorded_at', 't.event_id', param));
  const limit = param(f.limit + 1);
  const { rows } = await pool.query(
    `SELECT t.event_id, t.recorded_at, t.alias, t.reason, t.rule, t.incident_id, t.data, ${exactTime('t.recorded_at')} AS cursor_time,
            CASE WHEN i.type = 'AlertReceived' THEN i.data END AS input_data,
            storm.alias AS storm_alias, m.storm_slack_ts, CASE WHEN m.storm_slack_ts IS NOT NULL THEN m.slack_channel END AS storm_slack_channel,
            m.storm_pager_alert_id
       FROM incident_timeline t
       LEFT JOIN incident_timeline i ON i.event_id = t.input_id
       LEFT JOIN incidents m
         ON t.data->'suppressedBy'->>'kind' = 'storm' AND m.incident_id = COALESCE(t.incident_id, t.data->>'incidentId')
        AND m.storm_incident_id = t.data->'suppressedBy'->>'summaryIncidentId'
       LEFT JOIN LATERAL (
             SELECT s.alias FROM incident_timeline s
              WHERE t.data->'suppressedBy'->>'kind' = 'storm' AND s.incident_id = t.data->'suppressedBy'->>'summaryIncidentId'
              LIMIT 1) storm ON true
      WHERE ${where.join(' AND ')}
      ORDER BY t.recorded_at DESC, t.event_id COLLATE "C"
      LIMIT ${limit}`,
    values,
  );
  const { page: shown, nextCursor } = keysetPage(rows, f.limit, (last): SuppressedCursor => ({
    t: last.cursor_time as string,
    i: last.event_id as string,
    f: page.digest,
    a: f.from,
    b: f.to,
  }));
  return { items: shown.map(toSuppressed), nextCursor };
}

/** How many suppressions of each reason the window holds (for one alias, if given), the most frequent first. */
export async function countSuppressed(pool: Pool, f: Pick<SuppressedFilter, 'from' | 'to' | 'alias'>): Promise<ReasonCount[]> {
  const values: unknown[] = [f.from, f.to];
  const alias = f.alias !== undefined ? `AND alias = $${values.push(f.alias)}` : '';
  const { rows } = await pool.query(
    `SELECT reason, count(*)::integer AS count FROM incident_timeline
      WHERE type = 'EventSuppressed' AND recorded_at >= $1::timestamptz AND recorded_at < $2::timestamptz ${alias}
      GROUP BY reason ORDER BY count(*) DESC, reason COLLATE "C"`,
    values,
  );
  return rows.map((r) => ({ reason: String(r.reason), count: r.count as number }));
}

function toSuppressed(r: Record<string, unknown>): SuppressedRow {
  const d = (r.data ?? {}) as Record<string, unknown>;
  const input = (r.input_data ?? {}) as Record<string, unknown>;
  const kept = d.kept !== null && typeof d.kept === 'object' ? (d.kept as Record<string, unknown>) : {};
  return {
    eventId: r.event_id as string,
    recordedAt: (r.recorded_at as Date).toISOString(),
    alias: r.alias as string,
    reason: String(r.reason ?? d.reason),
    inputType: text(d.inputType),
    inputId: text(d.inputId),
    incidentId: text(r.incident_id) ?? text(d.incidentId),
    rule: (r.rule ?? null) as RuleRef | null,
    suppressedBy: d.suppressedBy ?? null,
    title: text(d.title) ?? text(input.title),
    severity: text(kept.severity) ?? text(input.severity),
    labels: kept.labels ?? input.labels ?? null,
    stormSummary: isStorm(d.suppressedBy)
      ? { alias: text(r.storm_alias), slackChannel: text(r.storm_slack_channel), slackTs: text(r.storm_slack_ts), pagerAlertId: text(r.storm_pager_alert_id) }
      : null,
  };
}
