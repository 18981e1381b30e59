-- One row per Slack workspace the app is installed in through OAuth. The bot token is never stored in the
-- clear: token_ciphertext is AES-256-GCM under SLACK_TOKEN_KEY, with the team id as associated data.
CREATE TABLE IF NOT EXISTS slack_installations (
  team_id text PRIMARY KEY,
  team_name text,
  enterprise_id text,
  app_id text,
  bot_user_id text,
  bot_id text,
  scopes text NOT NULL DEFAULT '',
  token_ciphertext text NOT NULL,
  installed_by text,
  installed_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
