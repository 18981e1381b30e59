-- The root message of each incident's Slack thread, so replies and updates still find it after a restart.
CREATE TABLE IF NOT EXISTS slack_threads (
  incident_id  text        PRIMARY KEY,
  alias        text        NOT NULL,
  channel_id   text        NOT NULL,
  root_ts      text        NOT NULL,
  command_id   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS slack_threads_alias ON slack_threads (alias);
