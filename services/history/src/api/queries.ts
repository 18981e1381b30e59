/** Reads of the projection for the API, mapped back to the projection's own row types (camelCase, ISO times). */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { STAGE_RANK_SQL } from '@alertbus/projection';
import type { DeliveryRow, IncidentRow, TimelineRow } from '@alertbus/projection';
import { decodeCursor, encodeCursor, keysetPage } from './cursor';
import { channelSpellings } from './channel';

export interface IncidentFilter {
  status?: string;
  source?: string;
  alias?: string;
  severity?: string;
  /** The channel the rule chose (`#alerts`, with or without its `#`) or the channel id Slack reported. */
  channel?: string;
  /** opened_at >= from */
  from?: string;
  /** opened_at < to */
  to?: string;
  /** Substring of title or description, case-insensitive. */
  q?: string;
  cursor?: string;
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type DbRow = Record<string, unknown>;

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : (v as Date).toISOString());
const isoNN = (v: unknown): string => (v as Date).toISOString();
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** Microsecond-exact UTC text of a timestamptz column, for cursors (JavaScript dates stop at milliseconds). */
export const exactTime = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const INCIDENT_COLUMNS = `incident_id, alias, occurrence, previous_incident_id, title, severity, source, status, labels,
  description, links, count, opened_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by, slack_channel,
  slack_target_channel, slack_root_ts, pager_alert_id, pager_priority, rule, last_event_at, updated_at, storm_incident_id,
  storm_slack_ts, storm_pager_alert_id, started_at, ended_at, acknowledged_by_name, resolved_by_name, acknowledged_in, resolved_in`;

/** The expression incidents_text_idx indexes: `q` must use it verbatim for the index to apply. */
const TEXT_EXPRESSION = `(title || ' ' || coalesce(description, ''))`;

export const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Thrown for a cursor that this API did not hand out; the route answers 400. */
export class BadCursorError extends Error {}

export interface ListCursor {
  t: string;
  i: string;
  /** The listDigest of the list the cursor was made for. */
  f: string;
}

/** Keys of a list query that say where a page starts or how long it is, not which rows are in the list. */
const PAGE_KEYS = new Set(['cursor', 'limit']);

/**
 * A short digest of which list a page belongs to (the list and its order, and its filters, but not the page size): a
 * cursor carries it so that one passed with other filters is refused rather than giving a page of another list from
 * the middle. Times are compared as instants (`+01:00` and `Z` spellings of one are the same filter).
 */
export function listDigest(list: string, query: object): string {
  const filters = Object.entries(query)
    .filter(([k, v]) => v !== undefined && !PAGE_KEYS.has(k))
    .map(([k, v]) => [k, (k === 'from' || k === 'to') && typeof v === 'string' ? new Date(v).toISOString() : v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify([list, filters])).digest('base64url').slice(0, 12);
}

/** The lists whose cursors are ListCursors, named with their order: a cursor of one is refused by the other. */
export const INCIDENT_LIST = 'incidents by opened_at desc, incident_id';
export const NOTIFICATION_LIST = 'notifications by requested_at desc, notification_id';
export const SILENCE_LIST = 'silences by created_at desc, silence_id';

export const OTHER_FILTERS = 'cursor was made for other filters: pass the same filters as the page it came from';
export const UNMARKED_CURSOR =
  'cursor was made by an earlier version of the history API, which did not record its filters: start again from the first page';

/**
 * The position a list cursor holds, checked against the list and filters it is passed with (`digest`): a cursor
 * this API did not hand out, or handed out for another list, throws BadCursorError.
 */
export function readListCursor(cursor: string, digest: string): ListCursor & Record<string, unknown> {
  const c = decodeCursor<ListCursor & Record<string, unknown>>(
    cursor,
    (v) => typeof v.t === 'string' && typeof v.i === 'string' && !Number.isNaN(Date.parse(v.t)),
  );
  if (!c) throw new BadCursorError('invalid cursor: pass back the next_cursor of a previous page');
  // Refused rather than trusted: such a cursor may come from any filters, and a wrong page looks like a right one.
  if (typeof c.f !== 'string') throw new BadCursorError(UNMARKED_CURSOR);
  if (c.f !== digest) throw new BadCursorError(OTHER_FILTERS);
  return c;
}

/** "After this position" in a list ordered newest first with the id breaking ties (a keyset page). */
export function afterPosition(c: ListCursor, timeColumn: string, idColumn: string, param: (value: unknown) => string): string {
  const t = param(c.t);
  const i = param(c.i);
  return `(${timeColumn} < ${t}::timestamptz OR (${timeColumn} = ${t}::timestamptz AND ${idColumn} COLLATE "C" > ${i}))`;
}

/**
 * Most rows one search request reads past that its `q` matched only in hidden text (a credential): the page then ends
 * there, shorter than asked, with a cursor to go on from.
 */
export const SEARCH_SCAN_MAX = 2_000;

/** Whether `q` is in `text`, without regard to case, as ILIKE finds it. */
export function containsText(text: string, q: string): boolean {
  return text.toLowerCase().includes(q.toLowerCase()) || text.toUpperCase().includes(q.toUpperCase());
}

/**
 * A keyset page of a list searched for `q`. The index finds `q` in the stored text; a row is kept only when `q` is also in
 * the text as the reader is shown it (`shownText`: credentials redacted). Else a search would confirm a hidden password
 * or token one guess at a time. Rows are read `batch` at a time from `start` (`fetch` answers the next rows after a
 * position, newest first). The page holds up to `limit` kept rows, and has a cursor when more may follow: when a kept row
 * came after it, or when SEARCH_SCAN_MAX rows were read, in which case the page may be short or empty.
 */
export async function searchedPage<R>(
  fetch: (after: ListCursor | undefined, n: number) => Promise<R[]>,
  o: { start: ListCursor | undefined; limit: number; q: string; shownText: (row: R) => string; positionOf: (row: R) => ListCursor },
): Promise<{ page: R[]; nextCursor: string | null }> {
  const page: R[] = [];
  const batch = Math.min(Math.max(o.limit + 1, 100), SEARCH_SCAN_MAX);
  let after = o.start;
  for (let scanned = 0; scanned < SEARCH_SCAN_MAX; ) {
    const n = Math.min(batch, SEARCH_SCAN_MAX - scanned);
    const rows = await fetch(after, n);
    for (const row of rows) {
      if (!containsText(o.shownText(row), o.q)) continue;
      if (page.length === o.limit) return { page, nextCursor: encodeCursor(o.positionOf(page[page.length - 1])) };
      page.push(row);
    }
    scanned += rows.length;
    const last = rows[rows.length - 1];
    if (last === undefined || rows.length < n) return { page, nextCursor: null };
    after = o.positionOf(last);
  }
  return { page, nextCursor: after ? encodeCursor(after) : null };
}

/**
 * A newest-first keyset page of a list (its time, then its id, breaking ties): `select` is the list's SELECT for the
 * filters' `where` (values in `values`, `$1…`), the position after `start` and a LIMIT (both given as parameters).
 * With `q`, a searched page (see searchedPage) matching the row's `texts` as `shownText` shows them.
 */
export async function listPage(
  pool: Pool,
  o: {
    where: readonly string[];
    values: readonly unknown[];
    digest: string;
    start: ListCursor | undefined;
    limit: number;
    timeColumn: string;
    idColumn: string;
    select: (conditions: readonly string[], limit: string) => string;
    q?: string;
    texts: (row: DbRow) => unknown[];
    shownText: (text: string) => string;
  },
): Promise<{ page: DbRow[]; nextCursor: string | null }> {
  const fetch = async (after: ListCursor | undefined, n: number): Promise<DbRow[]> => {
    const values = [...o.values];
    const param = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    const conditions = after ? [...o.where, afterPosition(after, o.timeColumn, o.idColumn, param)] : o.where;
    return (await pool.query(o.select(conditions, param(n)), values)).rows;
  };
  const positionOf = (r: DbRow): ListCursor => ({ t: r.cursor_time as string, i: r[o.idColumn] as string, f: o.digest });
  if (o.q === undefined) return keysetPage(await fetch(o.start, o.limit + 1), o.limit, positionOf);
  return searchedPage(fetch, {
    start: o.start,
    limit: o.limit,
    q: o.q,
    shownText: (r) => o.texts(r).map((t) => o.shownText(String(t ?? ''))).join(' '),
    positionOf,
  });
}

/**
 * Newest first; incident_id breaks ties so pages never shuffle. Pages are keyset pages: stable under inserts. `q` matches
 * the title and description as `shownText` shows them (see searchedPage).
 */
export async function listIncidents(pool: Pool, f: IncidentFilter, shownText: (text: string) => string): Promise<Page<IncidentRow>> {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (f.status !== undefined) where.push(`status = ${param(f.status)}`);
  if (f.source !== undefined) where.push(`source = ${param(f.source)}`);
  if (f.alias !== undefined) where.push(`alias = ${param(f.alias)}`);
  if (f.severity !== undefined) where.push(`severity = ${param(f.severity)}`);
  if (f.channel !== undefined) {
    const c = param(channelSpellings(f.channel));
    where.push(`(slack_channel = ANY(${c}::text[]) OR slack_target_channel = ANY(${c}::text[]))`);
  }
  if (f.from !== undefined) where.push(`opened_at >= ${param(f.from)}::timestamptz`);
  if (f.to !== undefined) where.push(`opened_at < ${param(f.to)}::timestamptz`);
  if (f.q !== undefined) where.push(`${TEXT_EXPRESSION} ILIKE ${param(likePattern(f.q))}`);
  const digest = listDigest(INCIDENT_LIST, f);
  const { page, nextCursor } = await listPage(pool, {
    where,
    values,
    digest,
    start: f.cursor !== undefined ? readListCursor(f.cursor, digest) : undefined,
    limit: f.limit,
    timeColumn: 'opened_at',
    idColumn: 'incident_id',
    select: (conditions, limit) =>
      `SELECT ${INCIDENT_COLUMNS}, ${exactTime('opened_at')} AS cursor_time FROM incidents
       ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY opened_at DESC, incident_id COLLATE "C" LIMIT ${limit}`,
    ...(f.q !== undefined ? { q: f.q } : {}),
    texts: (r) => [r.title, r.description],
    shownText,
  });
  return { items: page.map(toIncident), nextCursor };
}

export async function getIncident(pool: Pool, incidentId: string): Promise<IncidentRow | null> {
  const { rows } = await pool.query(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE incident_id = $1`, [incidentId]);
  return rows[0] ? toIncident(rows[0]) : null;
}

const TIMELINE_COLUMNS = `event_id, incident_id, input_id, alias, type, stage, topic, "partition", "offset", occurred_at,
  recorded_at, source, causation_id, correlation_id, reason, rule, data`;

/**
 * recordedAt first (the topics are only ordered by time), then the stage (a decision and its commands carry
 * their input's time), then the record's position, which is unique: a total order that is the same on every
 * read and after every rebuild.
 */
export const TIMELINE_ORDER = `recorded_at, ${STAGE_RANK_SQL}, topic COLLATE "C", "partition", "offset", event_id COLLATE "C"`;

/**
 * The incident's own rows plus the received events its decisions name by `input_id`: inputs carry no
 * incident id, so they are linked when read, and the link holds whichever of the two was projected first.
 */
/**
 * The most of an incident's timeline (and of its deliveries) one incident answer carries: a flapping incident open for
 * weeks has hundreds of thousands of entries, which made one answer 80 MB and 700 MB of the history's memory. The
 * rest is read page by page from GET /api/timeline?alias=….
 */
export const INCIDENT_TIMELINE_MAX = 2000;

export async function getTimeline(pool: Pool, incidentId: string, limit = INCIDENT_TIMELINE_MAX + 1): Promise<TimelineRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM (
       SELECT ${TIMELINE_COLUMNS} FROM incident_timeline WHERE incident_id = $1
       UNION ALL
       SELECT t.event_id, $1 AS incident_id, t.input_id, t.alias, t.type, t.stage, t.topic, t."partition", t."offset",
              t.occurred_at, t.recorded_at, t.source, t.causation_id, t.correlation_id, t.reason, t.rule, t.data
         FROM incident_timeline t
        WHERE t.event_id IN (SELECT input_id FROM incident_timeline WHERE incident_id = $1 AND input_id IS NOT NULL)
          AND t.incident_id IS DISTINCT FROM $1
     ) timeline ORDER BY ${TIMELINE_ORDER} LIMIT $2`,
    [incidentId, limit],
  );
  return rows.map(toTimeline);
}

export async function getDeliveries(pool: Pool, incidentId: string, limit = INCIDENT_TIMELINE_MAX + 1): Promise<DeliveryRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM deliveries WHERE incident_id = $1 ORDER BY recorded_at, topic COLLATE "C", "partition", "offset", event_id COLLATE "C" LIMIT $2`,
    [incidentId, limit],
  );
  return rows.map(toDelivery);
}

interface TimelineCursor {
  r: string;
  s: number;
  t: string;
  p: number;
  o: string;
  e: string;
  /** listDigest of the alias: a cursor of one alias's timeline passed with another alias is refused. */
  f: string;
}

export const ALIAS_TIMELINE = 'timeline of an alias by recorded_at, stage, position';

const RANK_T = STAGE_RANK_SQL.replace('CASE stage', 'CASE t.stage');

/** Every projected event of an alias, each with the incident it belongs to (linked inputs included), in timeline order. */
export async function getAliasTimeline(
  pool: Pool,
  alias: string,
  opts: { cursor?: string; limit: number },
): Promise<Page<TimelineRow>> {
  const values: unknown[] = [alias];
  const digest = listDigest(ALIAS_TIMELINE, { alias });
  let after = '';
  if (opts.cursor !== undefined) {
    const c = decodeCursor<TimelineCursor>(
      opts.cursor,
      (v) =>
        typeof v.r === 'string' && !Number.isNaN(Date.parse(v.r)) && Number.isInteger(v.s) && typeof v.t === 'string' && Number.isInteger(v.p) &&
        typeof v.o === 'string' && /^\d+$/.test(v.o) && typeof v.e === 'string',
    );
    if (!c) throw new BadCursorError('invalid cursor: pass back the next_cursor of a previous page');
    if (typeof c.f !== 'string') throw new BadCursorError(UNMARKED_CURSOR);
    if (c.f !== digest) throw new BadCursorError('cursor was made for another alias: pass the alias of the page it came from');
    values.push(c.r, c.s, c.t, c.p, c.o, c.e);
    after = `AND (t.recorded_at, ${RANK_T}, t.topic COLLATE "C", t."partition", t."offset", t.event_id COLLATE "C")
                > ($2::timestamptz, $3::integer, $4 COLLATE "C", $5::integer, $6::bigint, $7 COLLATE "C")`;
  }
  values.push(opts.limit + 1);
  const { rows } = await pool.query(
    `SELECT t.event_id, coalesce(t.incident_id, d.incident_id) AS incident_id, t.alias, t.type, t.stage, t.topic,
            t."partition", t."offset", t.occurred_at, t.recorded_at, t.source, t.causation_id, t.correlation_id, t.reason,
            t.rule, t.data, t.input_id, ${exactTime('t.recorded_at')} AS cursor_time, ${RANK_T} AS stage_rank
       FROM incident_timeline t
       LEFT JOIN LATERAL (
         SELECT min(x.incident_id COLLATE "C") AS incident_id FROM incident_timeline x
          WHERE x.input_id = t.event_id AND x.incident_id IS NOT NULL
       ) d ON t.incident_id IS NULL
      WHERE t.alias = $1 ${after}
      ORDER BY t.recorded_at, ${RANK_T}, t.topic COLLATE "C", t."partition", t."offset", t.event_id COLLATE "C"
      LIMIT $${values.length}`,
    values,
  );
  const { page, nextCursor } = keysetPage(
    rows,
    opts.limit,
    (last): TimelineCursor => ({
      r: last.cursor_time as string,
      s: last.stage_rank as number,
      t: last.topic as string,
      p: last.partition as number,
      o: String(last.offset),
      e: last.event_id as string,
      f: digest,
    }),
  );
  return { items: page.map(toTimeline), nextCursor };
}

export interface StoredOffset {
  consumer: string;
  topic: string;
  partition: number;
  nextOffset: string;
}

/** Where the projection stands in every partition it has read. */
export async function getOffsets(pool: Pool): Promise<StoredOffset[]> {
  const { rows } = await pool.query(
    `SELECT consumer, topic, "partition", next_offset FROM projection_offsets
      ORDER BY consumer COLLATE "C", topic COLLATE "C", "partition"`,
  );
  return rows.map((r) => ({
    consumer: r.consumer as string,
    topic: r.topic as string,
    partition: r.partition as number,
    nextOffset: String(r.next_offset),
  }));
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
    startedAt: iso(r.started_at),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: str(r.acknowledged_by),
    acknowledgedByName: str(r.acknowledged_by_name),
    acknowledgedIn: str(r.acknowledged_in),
    resolvedAt: iso(r.resolved_at),
    resolvedBy: str(r.resolved_by),
    resolvedByName: str(r.resolved_by_name),
    resolvedIn: str(r.resolved_in),
    endedAt: iso(r.ended_at),
    slackChannel: str(r.slack_channel),
    slackTargetChannel: str(r.slack_target_channel),
    slackRootTs: str(r.slack_root_ts),
    pagerAlertId: str(r.pager_alert_id),
    pagerPriority: str(r.pager_priority),
    stormIncidentId: str(r.storm_incident_id),
    stormSlackTs: str(r.storm_slack_ts),
    stormPagerAlertId: str(r.storm_pager_alert_id),
    rule: r.rule as IncidentRow['rule'],
    lastEventAt: isoNN(r.last_event_at),
    updatedAt: isoNN(r.updated_at),
  };
}

export function toTimeline(r: DbRow): TimelineRow {
  return {
    eventId: r.event_id as string,
    incidentId: str(r.incident_id),
    inputId: str(r.input_id),
    alias: r.alias as string,
    type: r.type as string,
    stage: r.stage as TimelineRow['stage'],
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
