-- Who was on call for a schedule at fetched_at (Opsgenie emails → Slack users), shared by every sink instance,
-- so "cache clear" empties it for all of them. Entries older than ONCALL_CACHE_TTL_SECONDS are ignored.
CREATE TABLE IF NOT EXISTS oncall_cache (
  schedule          text        PRIMARY KEY,
  emails            jsonb       NOT NULL,
  slack_user_ids    jsonb       NOT NULL,
  unmatched_emails  jsonb       NOT NULL,
  fetched_at        timestamptz NOT NULL
);

-- The steps of a command that has several effects (acknowledgement, on-call answer…), each recorded as soon
-- as it happened, so a retry or a restart does each of them at most once.
CREATE TABLE IF NOT EXISTS slack_command_steps (
  command_id  text        NOT NULL,
  step        text        NOT NULL,
  data        jsonb       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (command_id, step)
);
