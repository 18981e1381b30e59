-- An update skipped because a later command of the same fetched batch replaces the same message whole: it is
-- completed without an external call, superseded_by names the command whose effect stands in for it.
ALTER TABLE sink_commands ADD COLUMN IF NOT EXISTS superseded_by text;
