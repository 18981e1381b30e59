-- history, second step: the timeline also holds received events, commands and silence events; silences get their
-- own table; indexes for the query API's filters, text search and stats. Still no wall-clock column anywhere.

-- A decision's input (the received event it decided on): links inputs, which carry no incident id, to incidents.
ALTER TABLE incident_timeline ADD COLUMN input_id text;
CREATE INDEX incident_timeline_input_idx ON incident_timeline (input_id) WHERE input_id IS NOT NULL;

-- received → decided → command → delivered/failed: decisions and commands carry their input's recordedAt, so at
-- equal times the stage orders the story. Rows of 001 were decisions and delivery results only.
ALTER TABLE incident_timeline ADD COLUMN stage text;
UPDATE incident_timeline SET stage = CASE
  WHEN type = 'DeliveryFailed' THEN 'failed'
  WHEN type IN ('SlackMessagePosted', 'SlackMessageUpdated', 'PagerAlertCreated', 'PagerAlertClosed',
                'PagerAlertAcknowledged', 'PagerNoteAdded') THEN 'delivered'
  ELSE 'decided' END;
ALTER TABLE incident_timeline ALTER COLUMN stage SET NOT NULL;
CREATE INDEX incident_timeline_alias_order_idx ON incident_timeline (alias, recorded_at);

CREATE TABLE silences (
  silence_id  text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('silence', 'maintenance')),
  matchers    jsonb NOT NULL,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  created_by  text NOT NULL,
  comment     text NOT NULL,
  created_at  timestamptz NOT NULL,                   -- recordedAt of SilenceCreated
  expired_at  timestamptz,                            -- from SilenceExpired
  expired_by  text
);
CREATE INDEX silences_window_idx ON silences (ends_at, starts_at);

-- The channel the rule chose (e.g. #alerts); slack_channel becomes the channel id Slack reports once posted.
ALTER TABLE incidents ADD COLUMN slack_target_channel text;
CREATE INDEX incidents_target_channel_idx ON incidents (slack_target_channel, opened_at DESC, incident_id);

-- Filters of GET /api/incidents, each with the list order (newest first, incident_id breaking ties).
CREATE INDEX incidents_severity_idx ON incidents (severity, opened_at DESC, incident_id);
CREATE INDEX incidents_channel_idx ON incidents (slack_channel, opened_at DESC, incident_id);
CREATE INDEX incidents_list_idx ON incidents (opened_at DESC, incident_id COLLATE "C");

-- Free text (`q`): substring search over title and description. pg_trgm is a trusted extension (PostgreSQL 13+).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX incidents_text_idx ON incidents
  USING gin ((title || ' ' || coalesce(description, '')) public.gin_trgm_ops);

-- Stats: pages per day.
CREATE INDEX deliveries_pages_idx ON deliveries (recorded_at) WHERE type = 'PagerAlertCreated' AND ok;
