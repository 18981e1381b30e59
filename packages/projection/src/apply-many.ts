/**
 * A batch of Projections in a handful of statements, with exactly the rows applying them one by one
 * (apply.ts) gives: the per-event round trips were the projection's cost, not the rows themselves.
 *
 * - timeline rows: one COPY of the batch's rows. An event already applied (a duplicate, which changes nothing)
 *   fails it with a unique violation; a batch is then applied again with a look-up of its event ids first
 *   (`lookUp`), and only the new ones' rows are copied;
 * - delivery rows of the new events: one COPY (a delivery row is only ever written with its event's timeline
 *   row, so none of them can exist yet);
 * - incident changes: changes to different incidents commute, and for one incident an event sequence
 *   "before its open, the open, after it" folds into at most one update, one Slack link and one pager link
 *   on each side of one insert (see foldIncident), so three phases of one statement per kind cover a batch;
 * - silence changes, rare and order-dependent among themselves, one by one in their order.
 */
import type { PoolClient } from 'pg';
import { applyChangeSequentially, assignment, earliestDeliveries, startedAndEnded, UPDATE_COLUMNS } from './apply';
import { endedAfterStart, previousEnd, startedAfterPrevious } from './sender-times';
import { copyRows } from './copy-rows';
import { isCreatedPagerAlert, isRootPost } from './delivery-events';
import type { ApplyOutcome, Change, DeliveryRow, IncidentChange, IncidentRow, IncidentUpdate, Projection, StormChange, TimelineRow } from './types';

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** Rows per statement: bounds the size of one query's arrays. */
const CHUNK = 2_000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/**
 * The incidents a new row may adopt deliveries of (apply.ts's adoptEarlierDeliveries: a root post or a created pager
 * alert stored with their incident id), as a writer knows them that is the only one of its tables and notes every
 * delivery row it writes: the rebuild's replay into its own schema. An incident not noted has no such delivery stored,
 * and its insert skips the look-up of its deliveries, which in a rebuild cost a page read from outside the buffer cache
 * per new incident (bench/README.md). A row noted whose transaction then rolled back stays noted: a look-up too many,
 * which finds nothing, never one too few. One id per incident with a root post or a page, kept as long as the writer.
 */
export class AdoptableDeliveries {
  private readonly incidents = new Set<string>();
  /** New incidents whose deliveries were looked up (by applyProjections; one by one, applyProjection looks every one up). */
  lookedUp = 0;

  /** Notes the rows about to be written (before their incidents' inserts in the same transaction). */
  note(rows: ReadonlyArray<DeliveryRow | null>): void {
    for (const r of rows) if (r && r.incidentId !== null && (isRootPost(r) || isCreatedPagerAlert(r))) this.incidents.add(r.incidentId);
  }

  has(incidentId: string): boolean {
    return this.incidents.has(incidentId);
  }

  get size(): number {
    return this.incidents.size;
  }
}

/**
 * Applies the projections in order, as applyProjection would one after the other; one outcome each.
 * `lookUp: false` copies the timeline rows without looking for their ids first: one statement less per batch,
 * for a batch whose events are not in the timeline yet (a unique violation, SQLSTATE 23505, when one is).
 * `adoptable`: only for the only writer of the tables, which passes the same one to each of its batches (see
 * AdoptableDeliveries): new incidents look up only the deliveries of those it has noted.
 */
export async function applyProjections(
  client: PoolClient,
  projections: readonly Projection[],
  opts: { lookUp?: boolean; adoptable?: AdoptableDeliveries } = {},
): Promise<ApplyOutcome[]> {
  if (projections.length === 0) return [];
  // The first of an id in the batch is the one applied; a later one is a duplicate, as it would be in order.
  const firstOf = new Map<string, number>();
  projections.forEach((p, i) => {
    if (!firstOf.has(p.eventId)) firstOf.set(p.eventId, i);
  });
  const candidates = projections.filter((p, i) => firstOf.get(p.eventId) === i);
  const inserted = new Set<string>();
  // COPY has no limit on parameters: the batch's rows go in at once.
  for (const id of await insertTimeline(client, candidates.map((p) => p.timeline), opts.lookUp ?? true)) inserted.add(id);
  const outcomes: ApplyOutcome[] = projections.map((p, i) => (firstOf.get(p.eventId) === i && inserted.has(p.eventId) ? 'applied' : 'duplicate'));
  const applied = projections.filter((_, i) => outcomes[i] === 'applied');
  if (applied.length === 0) return outcomes;

  const deliveries = applied.map((p) => p.delivery).filter((d): d is DeliveryRow => d !== null);
  opts.adoptable?.note(deliveries);
  if (deliveries.length > 0) await insertDeliveries(client, deliveries);

  await applyChanges(client, applied.flatMap((p) => p.changes), opts.adoptable);
  return outcomes;
}

const TIMELINE_COLUMNS = ['event_id', 'incident_id', 'alias', 'type', 'topic', 'partition', 'offset', 'occurred_at', 'recorded_at',
  'source', 'causation_id', 'correlation_id', 'reason', 'rule', 'data', 'input_id', 'stage'] as const;

/**
 * Inserts the rows whose event id is not in the timeline yet (with `lookUp`; else every row, and a row already
 * there fails the COPY), and returns those ids. A row another transaction inserts between the look-up and the
 * COPY fails the COPY too (unique violation): the batch is then applied record by record, where ON CONFLICT
 * tells the duplicate (batch-apply.ts).
 */
async function insertTimeline(client: PoolClient, rows: readonly TimelineRow[], lookUp: boolean): Promise<string[]> {
  let known = new Set<string>();
  if (lookUp) {
    const { rows: present } = await client.query<{ event_id: string }>(
      'SELECT event_id FROM incident_timeline WHERE event_id = ANY($1::text[])',
      [rows.map((r) => r.eventId)],
    );
    known = new Set(present.map((r) => r.event_id));
  }
  const fresh = known.size === 0 ? rows : rows.filter((r) => !known.has(r.eventId));
  await copyRows(
    client,
    'incident_timeline',
    TIMELINE_COLUMNS,
    fresh.map((r) => [
      r.eventId, r.incidentId, r.alias, r.type, r.topic, r.partition, r.offset, r.occurredAt, r.recordedAt, r.source,
      r.causationId, r.correlationId, r.reason, json(r.rule), json(r.data), r.inputId, r.stage,
    ]),
  );
  return fresh.map((r) => r.eventId);
}

const DELIVERY_COLUMNS = ['event_id', 'command_id', 'command_type', 'incident_id', 'type', 'target', 'dry_run', 'ok', 'error',
  'http_status', 'permanent', 'attempts', 'slack_channel', 'slack_ts', 'slack_thread_ts', 'slack_purpose', 'pager_provider',
  'pager_alert_id', 'pager_request_id', 'request', 'topic', 'partition', 'offset', 'recorded_at'] as const;

/** The delivery rows of events just inserted into the timeline (so of events no transaction had applied). */
async function insertDeliveries(client: PoolClient, rows: readonly DeliveryRow[]): Promise<void> {
  await copyRows(
    client,
    'deliveries',
    DELIVERY_COLUMNS,
    rows.map((r) => [
      r.eventId, r.commandId, r.commandType, r.incidentId, r.type, r.target, r.dryRun, r.ok, r.error, r.httpStatus,
      r.permanent, r.attempts, r.slackChannel, r.slackTs, r.slackThreadTs, r.slackPurpose, r.pagerProvider,
      r.pagerAlertId, r.pagerRequestId, json(r.request), r.topic, r.partition, r.offset, r.recordedAt,
    ]),
  );
}

type Update = { incidentId: string; set: IncidentUpdate; at: string };
type Link<K extends 'link-slack-root' | 'link-pager-alert'> = Extract<IncidentChange, { kind: K }>;

/** What a run of updates and links does to one incident: one merged update and the first link of each kind. */
interface Side {
  update: Update | null;
  slack: Link<'link-slack-root'> | null;
  pager: Link<'link-pager-alert'> | null;
}

interface Folded {
  /** Changes before the incident's first open in the batch: they touch the row only when it exists already. */
  before: Side;
  open: IncidentRow | null;
  /** Changes after that open. A later open of the same incident changes nothing (the row exists by then). */
  after: Side;
}

const emptySide = (): Side => ({ update: null, slack: null, pager: null });

/**
 * The later of two instants, as GREATEST(updated_at, …) keeps them; ties broken on the text, which orders
 * the sub-millisecond digits Date.parse drops when both are written the same way.
 */
function laterInstant(a: string, b: string): string {
  const d = Date.parse(b) - Date.parse(a);
  if (d !== 0) return d > 0 ? b : a;
  return b > a ? b : a;
}

/**
 * Updates and links touch disjoint columns (updated_at only moves forward, whichever comes first), so they
 * commute; consecutive updates merge (the later value of a column wins); only the first link of a kind can
 * take effect (it fills the column the next one requires empty). An update or link before the open changes
 * an existing row, or nothing when there is none (then the open inserts it): the same either way.
 */
function fold(side: Side, c: Exclude<IncidentChange, { kind: 'open-incident' }>): void {
  switch (c.kind) {
    case 'update-incident': {
      const set: IncidentUpdate = { ...(side.update?.set ?? {}) };
      for (const [key, value] of Object.entries(c.set)) if (value !== undefined) (set as Record<string, unknown>)[key] = value;
      side.update = { incidentId: c.incidentId, set, at: side.update ? laterInstant(side.update.at, c.at) : c.at };
      return;
    }
    case 'link-slack-root':
      side.slack ??= c;
      return;
    case 'link-pager-alert':
      side.pager ??= c;
      return;
  }
}

const isStormChange = (c: Change): c is StormChange => c.kind === 'join-storm' || c.kind === 'link-storm-slack' || c.kind === 'link-storm-pager';

async function applyChanges(client: PoolClient, changes: readonly Change[], adoptable: AdoptableDeliveries | undefined): Promise<void> {
  const incidents = new Map<string, Folded>();
  // Silences, notifications and storm links: rare beside incidents, and each written by its own statement, in order.
  const sequential: Change[] = [];
  for (const c of changes) {
    // Storm links after the incidents' own changes: a member's join-storm follows its open, and a join and the storm's
    // links give the same row in either order (the join adopts the storm's deliveries stored before it).
    if (c.kind === 'create-silence' || c.kind === 'expire-silence' || c.kind === 'prune-silences' || c.kind === 'notification' || isStormChange(c)) {
      sequential.push(c);
      continue;
    }
    const id = c.kind === 'open-incident' ? c.row.incidentId : c.incidentId;
    let f = incidents.get(id);
    if (!f) incidents.set(id, (f = { before: emptySide(), open: null, after: emptySide() }));
    if (c.kind === 'open-incident') f.open ??= c.row;
    else fold(f.open ? f.after : f.before, c);
  }
  const all = [...incidents.values()];
  await applySides(client, all.map((f) => f.before));
  const opened = all.filter((f): f is Folded & { open: IncidentRow } => f.open !== null);
  // The update after the open goes into the row inserted: one row version instead of two (each version of an
  // incident not updated in place is an entry in each of its nine indexes). A row that exists already (the open
  // inserts nothing) takes the update below, as before.
  const rowOf = new Map<Folded, IncidentRow>();
  const insertOf = new Map<Folded, IncidentRow>();
  for (const f of opened) {
    // The start raised first (from a previous incident of the alias opened in this batch), as the insert raises it: the
    // update's end is read against the raised start.
    const raised = afterPreviousInBatch(f.open, incidents, rowOf);
    const u = f.after.update;
    rowOf.set(f, u ? withUpdate(raised, u) : raised);
    // A previous incident in the table raises the start in the insert itself, unseen here: an end the update sets is then
    // applied after the insert, against the start stored, as one by one (folded in, it was read against the start before).
    const unseenPrevious = raised.previousIncidentId !== null && !incidents.has(raised.previousIncidentId);
    insertOf.set(f, u && !(u.set.endedAt && unseenPrevious) ? rowOf.get(f)! : raised);
  }
  for (const part of chunks(opened)) {
    const rows = part.map((f) => insertOf.get(f)!);
    const lookUp = rows.map((r) => r.incidentId).filter((id) => adoptable === undefined || adoptable.has(id));
    if (adoptable) adoptable.lookedUp += lookUp.length;
    const insertedIds = await insertIncidents(client, rows, lookUp);
    if (insertedIds.length === 0) continue;
    const inserted = new Set(insertedIds);
    for (const f of part) if (inserted.has(f.open.incidentId) && insertOf.get(f) === rowOf.get(f)) f.after.update = null;
  }
  await applySides(client, all.map((f) => f.after));
  // A storm's members join it in one statement: a storm gathers thousands of them, one statement each was the storm's
  // bottleneck in the history. The storm's links stay in order after the joins (either order gives the same rows).
  const joins = sequential.filter((c): c is JoinStorm => c.kind === 'join-storm');
  if (joins.length > 0) await joinStorms(client, joins);
  for (const c of sequential) if (c.kind !== 'join-storm') await applyChangeSequentially(client, c);
}

type JoinStorm = Extract<Change, { kind: 'join-storm' }>;

/**
 * What applyChangeSequentially's join-storm does for each of `joins` in order, in one statement per chunk: a member
 * takes the storm's channel, and the summary's root post and the storm's page stored before it; a member joins once
 * (the first of its joins in order is the one applied, as one after the other the later ones find it joined).
 */
async function joinStorms(client: PoolClient, joins: readonly JoinStorm[]): Promise<void> {
  const first = new Map<string, JoinStorm>();
  for (const j of joins) if (!first.has(j.incidentId)) first.set(j.incidentId, j);
  for (const part of chunks([...first.values()])) {
    await client.query(
      `WITH j AS (SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[], $4::text[], $5::timestamptz[])
                    AS j(incident_id, storm_id, grouped, channel, at)),
            ${earliestDeliveries('$6')}
       UPDATE incidents i
          SET storm_incident_id = j.storm_id,
              storm_page_grouped = j.grouped,
              slack_target_channel = COALESCE(i.slack_target_channel, j.channel),
              slack_channel = COALESCE(s.slack_channel, i.slack_channel, j.channel),
              storm_slack_ts = s.slack_ts,
              storm_pager_alert_id = CASE WHEN j.grouped THEN p.pager_alert_id END,
              updated_at = GREATEST(i.updated_at, j.at, s.recorded_at, CASE WHEN j.grouped THEN p.recorded_at END)
         FROM j LEFT JOIN s ON s.incident_id = j.storm_id LEFT JOIN p ON p.incident_id = j.storm_id
        WHERE i.incident_id = j.incident_id AND i.storm_incident_id IS NULL`,
      [
        part.map((j) => j.incidentId),
        part.map((j) => j.stormId),
        part.map((j) => j.grouped),
        part.map((j) => j.channel),
        part.map((j) => j.at),
        [...new Set(part.map((j) => j.stormId))],
      ],
    );
  }
}

/**
 * A row whose previous incident of the alias is opened earlier in the same batch: started no earlier than that one
 * ended, as its row will be inserted (the insert's own look-up of the previous row reads the table before the
 * statement, and the two may be in one). One whose previous incident is in the table already is raised by the insert.
 */
function afterPreviousInBatch(row: IncidentRow, incidents: ReadonlyMap<string, Folded>, rowOf: ReadonlyMap<Folded, IncidentRow>): IncidentRow {
  const f = row.previousIncidentId === null ? undefined : incidents.get(row.previousIncidentId);
  const previous = f === undefined ? undefined : rowOf.get(f);
  if (previous === undefined) return row;
  const startedAt = startedAfterPrevious(row.startedAt, row.openedAt, previousEnd(previous));
  if (startedAt === row.startedAt) return row;
  const raised = { ...row, startedAt };
  return row.endedAt === null ? raised : { ...raised, endedAt: endedAfterStart(row.endedAt, raised) };
}

/**
 * The row an insert followed by the update would leave: the update's columns, and updated_at the later of the two
 * (GREATEST in SQL; updates and links touch disjoint columns, so the deliveries the insert adopts and the links
 * after it give the same row either way).
 */
function withUpdate(row: IncidentRow, u: Update): IncidentRow {
  const out: IncidentRow = Object.assign({}, row);
  for (const [key, value] of Object.entries(u.set)) if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  if (u.set.endedAt) out.endedAt = endedAfterStart(u.set.endedAt, row);
  out.updatedAt = laterInstant(row.updatedAt, u.at);
  return out;
}

async function applySides(client: PoolClient, sides: readonly Side[]): Promise<void> {
  const updates = sides.map((s) => s.update).filter((u): u is Update => u !== null);
  // One statement per set of columns: the column list is fixed text, the values are parameters.
  const byColumns = new Map<string, Update[]>();
  for (const u of updates) {
    const key = (Object.keys(u.set) as Array<keyof IncidentUpdate>).filter((k) => u.set[k] !== undefined).sort().join(',');
    byColumns.set(key, [...(byColumns.get(key) ?? []), u]);
  }
  for (const [key, group] of byColumns) for (const part of chunks(group)) await updateIncidents(client, key === '' ? [] : (key.split(',') as Array<keyof IncidentUpdate>), part);
  const slack = sides.map((s) => s.slack).filter((l): l is Link<'link-slack-root'> => l !== null);
  for (const part of chunks(slack)) {
    await client.query(
      `UPDATE incidents i SET slack_channel = l.channel, slack_root_ts = l.ts, updated_at = GREATEST(i.updated_at, l.at::timestamptz)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS l(incident_id, channel, ts, at)
        WHERE i.incident_id = l.incident_id AND i.slack_root_ts IS NULL`,
      [part.map((l) => l.incidentId), part.map((l) => l.channel), part.map((l) => l.ts), part.map((l) => l.at)],
    );
  }
  const pager = sides.map((s) => s.pager).filter((l): l is Link<'link-pager-alert'> => l !== null);
  for (const part of chunks(pager)) {
    await client.query(
      `UPDATE incidents i SET pager_alert_id = l.alert_id, updated_at = GREATEST(i.updated_at, l.at::timestamptz)
         FROM unnest($1::text[], $2::text[], $3::text[]) AS l(incident_id, alert_id, at)
        WHERE i.incident_id = l.incident_id AND i.pager_alert_id IS NULL`,
      [part.map((l) => l.incidentId), part.map((l) => l.alertId), part.map((l) => l.at)],
    );
  }
}

async function updateIncidents(client: PoolClient, keys: ReadonlyArray<keyof IncidentUpdate>, updates: readonly Update[]): Promise<void> {
  const values: unknown[] = [updates.map((u) => u.incidentId), updates.map((u) => u.at)];
  const arrays = ['$1::text[]', '$2::text[]'];
  const names = ['incident_id', 'at'];
  const assignments = ['updated_at = GREATEST(i.updated_at, u.at::timestamptz)'];
  keys.forEach((key, n) => {
    const [, arrayType] = UPDATE_COLUMNS[key];
    values.push(updates.map((u) => (key === 'labels' || key === 'links' ? json(u.set[key]) : u.set[key])));
    arrays.push(`$${values.length}::${arrayType}`);
    names.push(`v${n}`);
    assignments.push(assignment(key, `u.v${n}`));
  });
  await client.query(
    `UPDATE incidents i SET ${assignments.join(', ')}
       FROM unnest(${arrays.join(', ')}) AS u(${names.join(', ')})
      WHERE i.incident_id = u.incident_id`,
    values,
  );
}

/**
 * Inserts the rows not stored yet, each with what its earlier deliveries say (apply.ts's adoptEarlierDeliveries: the
 * earliest root post's channel and ts, the earliest pager alert's id) in the same statement: one row version, where an
 * insert and then that update wrote two, each an entry in every index of the table, and one round trip less. The
 * deliveries are looked up for the incidents `lookUp` names (those that may have some), one index probe each.
 */
async function insertIncidents(client: PoolClient, rows: readonly IncidentRow[], lookUp: readonly string[]): Promise<string[]> {
  const [started, ended] = startedAndEnded({ opened: 'r.opened_at::timestamptz', started: 'r.started_at::timestamptz', ended: 'r.ended_at::timestamptz' }, 'prev');
  const res = await client.query<{ incident_id: string }>(
    `WITH r AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                   $9::text[], $10::text[], $11::text[], $12::integer[], $13::text[], $14::text[], $15::text[],
                   $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[],
                   $23::text[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[], $29::text[],
                   $30::text[], $31::text[])
         AS r(incident_id, alias, occurrence, previous_incident_id, title, severity, source, status, labels,
              description, links, count, opened_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by,
              slack_channel, slack_root_ts, pager_alert_id, pager_priority, rule, last_event_at, updated_at,
              slack_target_channel, started_at, ended_at, acknowledged_by_name, resolved_by_name, acknowledged_in, resolved_in)),
     ${earliestDeliveries('$32')}
     INSERT INTO incidents (incident_id, alias, occurrence, previous_incident_id, title, severity, source, status,
       labels, description, links, count, opened_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by,
       slack_channel, slack_root_ts, pager_alert_id, pager_priority, rule, last_event_at, updated_at, slack_target_channel,
       started_at, ended_at, acknowledged_by_name, resolved_by_name, acknowledged_in, resolved_in)
     SELECT r.incident_id, r.alias, r.occurrence, r.previous_incident_id, r.title, r.severity, r.source, r.status, r.labels::jsonb,
            r.description, r.links::jsonb, r.count, r.opened_at::timestamptz, r.acknowledged_at::timestamptz, r.acknowledged_by,
            r.resolved_at::timestamptz, r.resolved_by,
            CASE WHEN s.incident_id IS NULL THEN r.slack_channel ELSE s.slack_channel END,
            CASE WHEN s.incident_id IS NULL THEN r.slack_root_ts ELSE s.slack_ts END,
            CASE WHEN p.incident_id IS NULL THEN r.pager_alert_id ELSE p.pager_alert_id END,
            r.pager_priority, r.rule::jsonb, r.last_event_at::timestamptz,
            GREATEST(r.updated_at::timestamptz, s.recorded_at, p.recorded_at), r.slack_target_channel,
            ${started}, ${ended}, r.acknowledged_by_name, r.resolved_by_name, r.acknowledged_in, r.resolved_in
       FROM r LEFT JOIN s ON s.incident_id = r.incident_id LEFT JOIN p ON p.incident_id = r.incident_id
              LEFT JOIN incidents prev ON prev.incident_id = r.previous_incident_id
     ON CONFLICT (incident_id) DO NOTHING
     RETURNING incident_id`,
    [
      rows.map((r) => r.incidentId),
      rows.map((r) => r.alias),
      rows.map((r) => r.occurrence),
      rows.map((r) => r.previousIncidentId),
      rows.map((r) => r.title),
      rows.map((r) => r.severity),
      rows.map((r) => r.source),
      rows.map((r) => r.status),
      rows.map((r) => json(r.labels)),
      rows.map((r) => r.description),
      rows.map((r) => json(r.links)),
      rows.map((r) => r.count),
      rows.map((r) => r.openedAt),
      rows.map((r) => r.acknowledgedAt),
      rows.map((r) => r.acknowledgedBy),
      rows.map((r) => r.resolvedAt),
      rows.map((r) => r.resolvedBy),
      rows.map((r) => r.slackChannel),
      rows.map((r) => r.slackRootTs),
      rows.map((r) => r.pagerAlertId),
      rows.map((r) => r.pagerPriority),
      rows.map((r) => json(r.rule)),
      rows.map((r) => r.lastEventAt),
      rows.map((r) => r.updatedAt),
      rows.map((r) => r.slackTargetChannel),
      rows.map((r) => r.startedAt),
      rows.map((r) => r.endedAt),
      rows.map((r) => r.acknowledgedByName),
      rows.map((r) => r.resolvedByName),
      rows.map((r) => r.acknowledgedIn),
      rows.map((r) => r.resolvedIn),
      lookUp,
    ],
  );
  return res.rows.map((r) => r.incident_id);
}
