-- Slack user ids belong to one workspace: with OAuth installs in several, the on-call lookup is cached per
-- workspace ('' = the SLACK_BOT_TOKEN one, so a single-workspace setup keeps its rows).
ALTER TABLE oncall_cache ADD COLUMN IF NOT EXISTS team text NOT NULL DEFAULT '';
ALTER TABLE oncall_cache DROP CONSTRAINT IF EXISTS oncall_cache_pkey;
ALTER TABLE oncall_cache ADD PRIMARY KEY (team, schedule);
