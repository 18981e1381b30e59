-- An incident storm control gathered into a summary (EventSuppressed, suppressedBy.kind = storm) now records what Slack
-- and the pager did for it: the storm's channel, the summary message's ts and, when it pages through the storm's one
-- alert, that alert's id. The rows projected before are given the same values from their events and the storm's
-- deliveries, as a replay gives them, so the live tables stay equal to a rebuild.
ALTER TABLE incidents
  ADD COLUMN storm_incident_id    text,
  ADD COLUMN storm_page_grouped   boolean,
  ADD COLUMN storm_slack_ts       text,
  ADD COLUMN storm_pager_alert_id text;

CREATE INDEX incidents_by_storm_idx ON incidents (storm_incident_id) WHERE storm_incident_id IS NOT NULL;

UPDATE incidents AS i
   SET storm_incident_id    = t.data->'suppressedBy'->>'summaryIncidentId',
       storm_page_grouped   = COALESCE((t.data->'suppressedBy'->>'pageGrouped')::boolean, false),
       slack_target_channel = COALESCE(i.slack_target_channel, t.data->'suppressedBy'->>'channel'),
       slack_channel        = COALESCE(i.slack_channel, t.data->'suppressedBy'->>'channel'),
       updated_at           = GREATEST(i.updated_at, t.recorded_at)
  FROM incident_timeline AS t
 WHERE t.incident_id = i.incident_id
   AND t.type = 'EventSuppressed'
   AND t.data->'suppressedBy'->>'kind' = 'storm'
   AND i.storm_incident_id IS NULL;

UPDATE incidents AS i
   SET slack_channel  = s.slack_channel,
       storm_slack_ts = s.slack_ts,
       updated_at     = GREATEST(i.updated_at, s.recorded_at)
  FROM (SELECT DISTINCT ON (incident_id) incident_id, slack_channel, slack_ts, recorded_at
          FROM deliveries
         WHERE type = 'SlackMessagePosted' AND slack_purpose = 'root' AND slack_ts IS NOT NULL
           AND incident_id IN (SELECT storm_incident_id FROM incidents WHERE storm_incident_id IS NOT NULL)
         ORDER BY incident_id, topic COLLATE "C", "partition", "offset") AS s
 WHERE i.storm_incident_id = s.incident_id;

UPDATE incidents AS i
   SET storm_pager_alert_id = p.pager_alert_id,
       updated_at           = GREATEST(i.updated_at, p.recorded_at)
  FROM (SELECT DISTINCT ON (incident_id) incident_id, pager_alert_id, recorded_at
          FROM deliveries
         WHERE type = 'PagerAlertCreated' AND pager_alert_id IS NOT NULL
           AND incident_id IN (SELECT storm_incident_id FROM incidents WHERE storm_incident_id IS NOT NULL)
         ORDER BY incident_id, topic COLLATE "C", "partition", "offset") AS p
 WHERE i.storm_incident_id = p.incident_id
   AND i.storm_page_grouped;
