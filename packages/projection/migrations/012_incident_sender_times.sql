-- When the sender says an incident started and ended (startsAt on IncidentOpened/IncidentReopened, endsAt on the
-- IncidentResolved of a source's resolve), beside alertbus's own opened_at and resolved_at, which are late by
-- group_wait, retries or an outage of alertbus: the history's durations are measured from these when they are set.
-- Only believable values are kept (src/sender-times.ts): a startsAt up to 7 days before opened_at (one after it by up
-- to 5 minutes of clock skew counts as opened_at; anything else is left null), an endsAt up to resolved_at (one after
-- it by up to 5 minutes counts as resolved_at; later is left null), raised to the start when earlier.
-- The rows projected before are given the same values from their events, as a replay gives them, so the live tables
-- stay equal to a rebuild. Times are cut to milliseconds, as the projection parses them.
ALTER TABLE incidents
  ADD COLUMN started_at timestamptz,
  ADD COLUMN ended_at   timestamptz;

UPDATE incidents AS i
   SET started_at = CASE WHEN o.starts_at > i.opened_at THEN i.opened_at ELSE o.starts_at END
  FROM (SELECT DISTINCT ON (t.incident_id) t.incident_id,
               date_trunc('milliseconds', (t.data->>'startsAt')::timestamptz) AS starts_at
          FROM incident_timeline AS t
         WHERE t.type IN ('IncidentOpened', 'IncidentReopened')
           AND t.data->>'startsAt' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
           AND t.data->>'startsAt' NOT LIKE '0000%'
         ORDER BY t.incident_id, t.topic COLLATE "C", t."partition", t."offset") AS o
 WHERE o.incident_id = i.incident_id
   AND o.starts_at <= i.opened_at + interval '5 minutes'
   AND o.starts_at >= i.opened_at - interval '7 days';

UPDATE incidents AS i
   SET ended_at = GREATEST(LEAST(r.ends_at, r.resolved_at), COALESCE(i.started_at, i.opened_at))
  FROM (SELECT DISTINCT ON (t.incident_id) t.incident_id,
               date_trunc('milliseconds', (t.data->>'endsAt')::timestamptz) AS ends_at,
               (t.data->>'resolvedAt')::timestamptz AS resolved_at
          FROM incident_timeline AS t
         WHERE t.type = 'IncidentResolved'
           AND t.data->>'endsAt' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
           AND t.data->>'endsAt' NOT LIKE '0000%'
         ORDER BY t.incident_id, t.topic COLLATE "C" DESC, t."partition" DESC, t."offset" DESC) AS r
 WHERE r.incident_id = i.incident_id
   AND r.ends_at <= r.resolved_at + interval '5 minutes';
