-- A Slack request's incident (opened by a mention or a DM) now records the requester's channel and thread, as a replay
-- of incidents.v1 gives them: the rows projected before that are given the same values from their opening event, so
-- the live tables stay equal to a rebuild.
UPDATE incidents AS i
   SET slack_channel        = t.data->'slackRequest'->>'channel',
       slack_target_channel = t.data->'slackRequest'->>'channel',
       slack_root_ts        = t.data->'slackRequest'->>'threadTs'
  FROM incident_timeline AS t
 WHERE t.incident_id = i.incident_id
   AND t.type IN ('IncidentOpened', 'IncidentReopened')
   AND t.data ? 'slackRequest'
   AND NOT (t.data ? 'slack')
   AND i.slack_channel IS NULL
   AND i.slack_root_ts IS NULL;
