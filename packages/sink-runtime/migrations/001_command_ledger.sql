-- One row per command a sink has started; 'started' with no result after a crash means "effect unknown".
CREATE TABLE IF NOT EXISTS sink_commands (
  sink          text        NOT NULL,
  command_id    text        NOT NULL,
  command_type  text        NOT NULL,
  alias         text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('started', 'completed', 'failed')),
  runs          integer     NOT NULL DEFAULT 1,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  result        jsonb,
  PRIMARY KEY (sink, command_id)
);
CREATE INDEX IF NOT EXISTS sink_commands_alias ON sink_commands (sink, alias);
