-- Who acknowledged and who resolved an incident, by name (byName of IncidentAcknowledged / IncidentResolved: the Slack
-- name the click or command carried, or the pager's username) beside acknowledged_by / resolved_by, which keep the id
-- (a Slack user id): ids are stable, names change, and people read names. Null when the event named nobody by name,
-- as every event written before the router set byName.
-- The rows projected before are given the same values from their events, as a replay gives them (the latest of the
-- incident's acknowledgements or unacknowledgements, the latest resolve), so the live tables stay equal to a rebuild.
ALTER TABLE incidents
  ADD COLUMN acknowledged_by_name text,
  ADD COLUMN resolved_by_name     text;

UPDATE incidents AS i
   SET acknowledged_by_name = a.by_name
  FROM (SELECT DISTINCT ON (t.incident_id) t.incident_id,
               CASE WHEN t.type = 'IncidentAcknowledged' THEN t.data->>'byName' END AS by_name
          FROM incident_timeline AS t
         WHERE t.type IN ('IncidentAcknowledged', 'IncidentUnacknowledged')
         ORDER BY t.incident_id, t.topic COLLATE "C" DESC, t."partition" DESC, t."offset" DESC) AS a
 WHERE a.incident_id = i.incident_id
   AND a.by_name IS NOT NULL;

UPDATE incidents AS i
   SET resolved_by_name = r.by_name
  FROM (SELECT DISTINCT ON (t.incident_id) t.incident_id, t.data->>'byName' AS by_name
          FROM incident_timeline AS t
         WHERE t.type = 'IncidentResolved'
         ORDER BY t.incident_id, t.topic COLLATE "C" DESC, t."partition" DESC, t."offset" DESC) AS r
 WHERE r.incident_id = i.incident_id
   AND r.by_name IS NOT NULL;
