-- The last close per alias whose request status was still unknown after its polls (accepted, maybe not processed):
-- the next create for the alias asks for that status first, until OPSGENIE_CREATE_SETTLE_MS after accepted_at, so a
-- create processed before the close cannot only count on the old alert and then be closed with it. Read back at
-- start and on every partition assignment; a row goes when the create it held back completes, or once out of date.
CREATE TABLE IF NOT EXISTS pager_unconfirmed_closes (
  alias        text        PRIMARY KEY,
  command_id   text        NOT NULL,
  request_id   text        NOT NULL,
  accepted_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS pager_unconfirmed_closes_accepted_at ON pager_unconfirmed_closes (accepted_at);
