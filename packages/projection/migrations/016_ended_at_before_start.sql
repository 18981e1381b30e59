-- An incident's ended_at is null, not raised to its start, when the sender's endsAt is before that start (started_at,
-- else opened_at) by more than the 5 minutes of clock skew (src/sender-times.ts endedAfterStart): a payload replayed
-- days later, or a sender's broken clock, says nothing about when this incident ended, and raised it was shown as the
-- sender's end and counted as a resolve in no time. The rows projected before are given what a replay gives them, so
-- the live tables stay equal to a rebuild (the same event as migration 012 reads: the last IncidentResolved with an endsAt).
UPDATE incidents AS i
   SET ended_at = NULL
  FROM (SELECT DISTINCT ON (t.incident_id) t.incident_id,
               date_trunc('milliseconds', (t.data->>'endsAt')::timestamptz) AS ends_at,
               (t.data->>'resolvedAt')::timestamptz AS resolved_at
          FROM incident_timeline AS t
         WHERE t.type = 'IncidentResolved'
           AND t.data->>'endsAt' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
           AND t.data->>'endsAt' NOT LIKE '0000%'
         ORDER BY t.incident_id, t.topic COLLATE "C" DESC, t."partition" DESC, t."offset" DESC) AS r
 WHERE r.incident_id = i.incident_id
   AND i.ended_at IS NOT NULL
   AND r.ends_at <= r.resolved_at + interval '5 minutes'
   AND LEAST(r.ends_at, r.resolved_at) < COALESCE(i.started_at, i.opened_at) - interval '5 minutes';
