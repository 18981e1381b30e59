/** Turns a Projection into SQL on the caller's transaction, with the semantics memory-store.ts specifies. */
import type { PoolClient } from 'pg';
import { notificationSql } from './notification-events';
import { endedAfterStartSql, startedAfterPreviousSql } from './sender-times';
import type { ApplyOutcome, Change, DeliveryRow, IncidentRow, IncidentUpdate, Projection, SilenceRow, TimelineRow } from './types';

const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** Applies one event's rows and changes, or nothing when its id is already in the timeline. */
export async function applyProjection(client: PoolClient, p: Projection): Promise<ApplyOutcome> {
  if (!(await insertTimeline(client, p.timeline))) return 'duplicate';
  if (p.delivery) await insertDelivery(client, p.delivery);
  for (const change of p.changes) await applyChangeSequentially(client, change);
  return 'applied';
}

async function insertTimeline(client: PoolClient, r: TimelineRow): Promise<boolean> {
  const res = await client.query(
    `INSERT INTO incident_timeline (event_id, incident_id, alias, type, topic, "partition", "offset", occurred_at,
       recorded_at, source, causation_id, correlation_id, reason, rule, data, input_id, stage)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16, $17)
     ON CONFLICT (event_id) DO NOTHING`,
    [
      r.eventId, r.incidentId, r.alias, r.type, r.topic, r.partition, r.offset, r.occurredAt,
      r.recordedAt, r.source, r.causationId, r.correlationId, r.reason, json(r.rule), json(r.data), r.inputId, r.stage,
    ],
  );
  return res.rowCount === 1;
}

async function insertDelivery(client: PoolClient, r: DeliveryRow): Promise<void> {
  await client.query(
    `INSERT INTO deliveries (event_id, command_id, command_type, incident_id, type, target, dry_run, ok, error,
       http_status, permanent, attempts, slack_channel, slack_ts, slack_thread_ts, slack_purpose, pager_provider,
       pager_alert_id, pager_request_id, request, topic, "partition", "offset", recorded_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20::jsonb,
       $21, $22, $23, $24::timestamptz)
     ON CONFLICT (event_id) DO NOTHING`,
    [
      r.eventId, r.commandId, r.commandType, r.incidentId, r.type, r.target, r.dryRun, r.ok, r.error,
      r.httpStatus, r.permanent, r.attempts, r.slackChannel, r.slackTs, r.slackThreadTs, r.slackPurpose,
      r.pagerProvider, r.pagerAlertId, r.pagerRequestId, json(r.request), r.topic, r.partition, r.offset,
      r.recordedAt,
    ],
  );
}

/** One change on its own; apply-many.ts uses it for silence changes, which depend on their order. */
export async function applyChangeSequentially(client: PoolClient, c: Change): Promise<void> {
  switch (c.kind) {
    case 'open-incident':
      if (await insertIncident(client, c.row)) await adoptEarlierDeliveries(client, [c.row.incidentId]);
      return;
    case 'update-incident':
      await updateIncident(client, c.incidentId, c.set, c.at);
      return;
    case 'link-slack-root':
      await client.query(
        `UPDATE incidents SET slack_channel = $2, slack_root_ts = $3, updated_at = GREATEST(updated_at, $4::timestamptz)
         WHERE incident_id = $1 AND slack_root_ts IS NULL`,
        [c.incidentId, c.channel, c.ts, c.at],
      );
      return;
    case 'link-pager-alert':
      await client.query(
        `UPDATE incidents SET pager_alert_id = $2, updated_at = GREATEST(updated_at, $3::timestamptz)
         WHERE incident_id = $1 AND pager_alert_id IS NULL`,
        [c.incidentId, c.alertId, c.at],
      );
      return;
    case 'join-storm':
      await joinStorm(client, c);
      return;
    case 'link-storm-slack':
      await client.query(
        `UPDATE incidents SET slack_channel = $2, storm_slack_ts = $3, updated_at = GREATEST(updated_at, $4::timestamptz)
         WHERE storm_incident_id = $1 AND storm_slack_ts IS NULL`,
        [c.stormId, c.channel, c.ts, c.at],
      );
      return;
    case 'link-storm-pager':
      await client.query(
        `UPDATE incidents SET storm_pager_alert_id = $2, updated_at = GREATEST(updated_at, $3::timestamptz)
         WHERE storm_incident_id = $1 AND storm_page_grouped AND storm_pager_alert_id IS NULL`,
        [c.stormId, c.alertId, c.at],
      );
      return;
    case 'create-silence':
      await insertSilence(client, c.row);
      return;
    case 'expire-silence':
      await client.query(
        `UPDATE silences SET expired_at = $2::timestamptz, expired_by = $3 WHERE silence_id = $1 AND expired_at IS NULL`,
        [c.silenceId, c.at, c.by],
      );
      return;
    case 'prune-silences':
      await client.query(`DELETE FROM silences WHERE LEAST(ends_at, expired_at) < $1::timestamptz`, [c.endedBefore]);
      return;
    case 'notification': {
      const { text, values } = notificationSql(c);
      await client.query(text, values);
      return;
    }
  }
}

/**
 * A storm member takes the storm's channel, and the summary's root post and the storm's page stored before it (the
 * storm's deliveries are another key, so they may be read first): the earliest of each by position, as the links keep.
 */
async function joinStorm(client: PoolClient, c: Extract<Change, { kind: 'join-storm' }>): Promise<void> {
  await client.query(
    `WITH ${earliestDeliveries('$6')}
     UPDATE incidents i
        SET storm_incident_id = $2,
            storm_page_grouped = $3,
            slack_target_channel = COALESCE(i.slack_target_channel, $4),
            slack_channel = COALESCE(s.slack_channel, i.slack_channel, $4),
            storm_slack_ts = s.slack_ts,
            storm_pager_alert_id = CASE WHEN $3 THEN p.pager_alert_id END,
            updated_at = GREATEST(i.updated_at, $5::timestamptz, s.recorded_at, CASE WHEN $3 THEN p.recorded_at END)
       FROM (VALUES (1)) AS one(x) LEFT JOIN s ON true LEFT JOIN p ON true
      WHERE i.incident_id = $1 AND i.storm_incident_id IS NULL`,
    [c.incidentId, c.stormId, c.grouped, c.channel, c.at, [c.stormId]],
  );
}

async function insertSilence(client: PoolClient, r: SilenceRow): Promise<void> {
  await client.query(
    `INSERT INTO silences (silence_id, kind, matchers, starts_at, ends_at, created_by, comment, created_at, expired_at, expired_by)
     VALUES ($1, $2, $3::jsonb, $4::timestamptz, $5::timestamptz, $6, $7, $8::timestamptz, $9::timestamptz, $10)
     ON CONFLICT (silence_id) DO NOTHING`,
    [r.silenceId, r.kind, json(r.matchers), r.startsAt, r.endsAt, r.createdBy, r.comment, r.createdAt, r.expiredAt, r.expiredBy],
  );
}

/**
 * The insert's started_at and ended_at: started no earlier than the previous incident of the alias ended
 * (startedAfterPrevious), ended no earlier than the start. `r` names the new row's values (opened_at, started_at,
 * ended_at), `prev` the previous incident's row, if any.
 */
export const startedAndEnded = (r: { opened: string; started: string; ended: string }, prev: string): [started: string, ended: string] => {
  const started = startedAfterPreviousSql(r.started, r.opened, `COALESCE(${prev}.ended_at, ${prev}.resolved_at)`);
  return [started, endedAfterStartSql(r.ended, `COALESCE(${started}, ${r.opened})`)];
};

async function insertIncident(client: PoolClient, r: IncidentRow): Promise<boolean> {
  const [started, ended] = startedAndEnded({ opened: '$13::timestamptz', started: '$26::timestamptz', ended: '$27::timestamptz' }, 'prev');
  const res = await client.query(
    `INSERT INTO incidents (incident_id, alias, occurrence, previous_incident_id, title, severity, source, status,
       labels, description, links, count, opened_at, acknowledged_at, acknowledged_by, resolved_at, resolved_by,
       slack_channel, slack_root_ts, pager_alert_id, pager_priority, rule, last_event_at, updated_at, slack_target_channel,
       started_at, ended_at, acknowledged_by_name, resolved_by_name, acknowledged_in, resolved_in)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11::jsonb, $12, $13::timestamptz, $14::timestamptz,
       $15, $16::timestamptz, $17, $18, $19, $20, $21, $22::jsonb, $23::timestamptz, $24::timestamptz, $25,
       ${started}, ${ended}, $28, $29, $30, $31
       FROM (VALUES (1)) AS one(x) LEFT JOIN incidents prev ON prev.incident_id = $4
     ON CONFLICT (incident_id) DO NOTHING`,
    [
      r.incidentId, r.alias, r.occurrence, r.previousIncidentId, r.title, r.severity, r.source, r.status,
      json(r.labels), r.description, json(r.links), r.count, r.openedAt, r.acknowledgedAt, r.acknowledgedBy,
      r.resolvedAt, r.resolvedBy, r.slackChannel, r.slackRootTs, r.pagerAlertId, r.pagerPriority, json(r.rule),
      r.lastEventAt, r.updatedAt, r.slackTargetChannel, r.startedAt, r.endedAt, r.acknowledgedByName, r.resolvedByName,
      r.acknowledgedIn, r.resolvedIn,
    ],
  );
  return res.rowCount === 1;
}

/**
 * SQL common table expressions over the deliveries of the incidents whose ids are the parameter `ids` (`$1`, a text
 * array): `s`, the earliest root post of each (channel, ts, recorded_at), and `p`, the earliest pager alert (id,
 * recorded_at), earliest by position in the log.
 * Each incident's deliveries are looked up through the index on their incident, one id at a time (a lateral subquery
 * the planner may not merge, `OFFSET 0`): with `incident_id = ANY($1)` it chose to read the whole table for a batch of
 * ids (51k rows for 130 incidents, 72 of the statement's 97 ms in bench/README.md), and that table only grows.
 */
export const earliestDeliveries = (ids: `$${number}`): string => `d AS (
       SELECT x.incident_id, x.type, x.slack_channel, x.slack_ts, x.pager_alert_id, x.recorded_at, x.topic, x."partition", x."offset"
         FROM unnest(${ids}::text[]) AS k(incident_id)
        CROSS JOIN LATERAL (
              SELECT incident_id, type, slack_channel, slack_ts, pager_alert_id, recorded_at, topic, "partition", "offset"
                FROM deliveries
               WHERE incident_id = k.incident_id
                 AND ((type = 'SlackMessagePosted' AND slack_purpose = 'root' AND slack_ts IS NOT NULL)
                   OR (type = 'PagerAlertCreated' AND pager_alert_id IS NOT NULL))
              OFFSET 0) x),
     s AS (SELECT DISTINCT ON (incident_id) incident_id, slack_channel, slack_ts, recorded_at FROM d
            WHERE type = 'SlackMessagePosted' ORDER BY incident_id, topic COLLATE "C", "partition", "offset"),
     p AS (SELECT DISTINCT ON (incident_id) incident_id, pager_alert_id, recorded_at FROM d
            WHERE type = 'PagerAlertCreated' ORDER BY incident_id, topic COLLATE "C", "partition", "offset")`;

/**
 * Deliveries can be read before the incident they belong to (another topic): new rows pick them up, the
 * earliest root post's channel and ts and the earliest pager alert's id, in one statement (one look-up of the
 * deliveries by incident, one new version of a row that takes both).
 */
export async function adoptEarlierDeliveries(client: PoolClient, incidentIds: readonly string[]): Promise<void> {
  await client.query(
    `WITH ${earliestDeliveries('$1')}
     UPDATE incidents i
        SET slack_channel = CASE WHEN s.incident_id IS NULL THEN i.slack_channel ELSE s.slack_channel END,
            slack_root_ts = CASE WHEN s.incident_id IS NULL THEN i.slack_root_ts ELSE s.slack_ts END,
            pager_alert_id = CASE WHEN p.incident_id IS NULL THEN i.pager_alert_id ELSE p.pager_alert_id END,
            updated_at = GREATEST(i.updated_at, s.recorded_at, p.recorded_at)
       FROM s FULL JOIN p ON p.incident_id = s.incident_id
      WHERE i.incident_id = COALESCE(s.incident_id, p.incident_id)`,
    [incidentIds],
  );
}

/** `column = value` for an update, the value being `ref` (a parameter or a column of the updates' list). */
export function assignment(key: keyof IncidentUpdate, ref: string): string {
  const [column, , cast, stored] = UPDATE_COLUMNS[key];
  return `${column} = ${stored ? stored(`${ref}${cast}`) : `${ref}${cast}`}`;
}

/**
 * Column, array type and cast of every field an update may set, and for some the expression its value is stored through
 * (of the value's reference, cast; unqualified columns are the row's before the update); a fixed list, so no caller
 * text reaches the SQL.
 */
export const UPDATE_COLUMNS: Record<keyof IncidentUpdate, [column: string, arrayType: string, cast: string, stored?: (value: string) => string]> = {
  title: ['title', 'text[]', ''],
  severity: ['severity', 'text[]', ''],
  status: ['status', 'text[]', ''],
  labels: ['labels', 'text[]', '::jsonb'],
  description: ['description', 'text[]', ''],
  links: ['links', 'text[]', '::jsonb'],
  count: ['count', 'integer[]', ''],
  acknowledgedAt: ['acknowledged_at', 'text[]', '::timestamptz'],
  acknowledgedBy: ['acknowledged_by', 'text[]', ''],
  acknowledgedByName: ['acknowledged_by_name', 'text[]', ''],
  acknowledgedIn: ['acknowledged_in', 'text[]', ''],
  resolvedAt: ['resolved_at', 'text[]', '::timestamptz'],
  resolvedBy: ['resolved_by', 'text[]', ''],
  resolvedByName: ['resolved_by_name', 'text[]', ''],
  resolvedIn: ['resolved_in', 'text[]', ''],
  // No earlier than the incident's start, null when well before it (sender-times.ts endedAfterStart): a duration is never negative.
  endedAt: ['ended_at', 'text[]', '::timestamptz', (v) => endedAfterStartSql(v, 'COALESCE(started_at, opened_at)')],
  lastEventAt: ['last_event_at', 'text[]', '::timestamptz'],
  pagerPriority: ['pager_priority', 'text[]', ''],
};

async function updateIncident(client: PoolClient, incidentId: string, set: IncidentUpdate, at: string): Promise<void> {
  const values: unknown[] = [incidentId, at];
  const assignments = ['updated_at = GREATEST(updated_at, $2::timestamptz)'];
  for (const [key, value] of Object.entries(set) as Array<[keyof IncidentUpdate, unknown]>) {
    if (value === undefined) continue;
    values.push(key === 'labels' || key === 'links' ? json(value) : value);
    assignments.push(assignment(key, `$${values.length}`));
  }
  await client.query(`UPDATE incidents SET ${assignments.join(', ')} WHERE incident_id = $1`, values);
}
