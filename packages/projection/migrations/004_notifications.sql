-- history, fourth step: notifications (POST /notify, alertbus notify / run) get a table of their own. They are
-- not incidents: one row per notification, filled column by column from three events that may be read in any
-- order (NotificationRequested, NotificationRouted, NotificationPosted); each column is set by one of them only.
CREATE TABLE notifications (
  notification_id  text PRIMARY KEY,
  alias            text,
  kind             text,                -- tag | direct
  tag              text,
  level            text,
  title            text,
  text             text,
  requested_at     timestamptz,         -- recordedAt of NotificationRequested
  sent_by          text,                -- the INGEST_TOKENS name, when there was one
  reason           text,                -- the router's decision: first-notification | duplicate | unknown-tag | direct
  channel          text,                -- where the router sent it (e.g. #deploys)
  command_id       text,
  slack_channel    text,                -- the channel id Slack reports
  slack_ts         text,
  delivered_at     timestamptz          -- recordedAt of NotificationPosted
);
CREATE INDEX notifications_list_idx ON notifications (requested_at DESC, notification_id COLLATE "C");
CREATE INDEX notifications_tag_idx ON notifications (tag, requested_at DESC);
CREATE INDEX notifications_channel_idx ON notifications (channel, requested_at DESC);
CREATE INDEX notifications_text_idx ON notifications
  USING gin ((coalesce(title, '') || ' ' || coalesce(text, '')) public.gin_trgm_ops);
