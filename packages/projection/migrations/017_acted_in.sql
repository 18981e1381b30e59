-- The pager an incident was acknowledged or resolved in (the provider of IncidentAcknowledged / IncidentResolved), null
-- when a person acted in Slack or a source resolved it: acknowledged_by / resolved_by are then the pager's username,
-- which a reader (the slash command's answers) must show as text and never take for a Slack user id, since a pager
-- user may be called anything, `U0CEO1234` included.
-- The rows projected before are given the same values from their events, as a replay gives them (the latest of the
-- incident's acknowledgements or unacknowledgements, the latest resolve), so the live tables stay equal to a rebuild.
ALTER TABLE incidents
  ADD COLUMN acknowledged_in text,
  ADD COLUMN resolved_in     text;

UPDATE incidents AS i
   SET acknowledged_in = a.provider
  FROM (SELECT DISTINCT ON (t.incident_id) t.incident_id,
               CASE WHEN t.type = 'IncidentAcknowledged' THEN t.data->>'provider' END AS provider
          FROM incident_timeline AS t
         WHERE t.type IN ('IncidentAcknowledged', 'IncidentUnacknowledged')
         ORDER BY t.incident_id, t.topic COLLATE "C" DESC, t."partition" DESC, t."offset" DESC) AS a
 WHERE a.incident_id = i.incident_id
   AND a.provider IS NOT NULL;

UPDATE incidents AS i
   SET resolved_in = r.provider
  FROM (SELECT DISTINCT ON (t.incident_id) t.incident_id, t.data->>'provider' AS provider
          FROM incident_timeline AS t
         WHERE t.type = 'IncidentResolved'
         ORDER BY t.incident_id, t.topic COLLATE "C" DESC, t."partition" DESC, t."offset" DESC) AS r
 WHERE r.incident_id = i.incident_id
   AND r.provider IS NOT NULL;
