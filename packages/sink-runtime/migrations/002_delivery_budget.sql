-- A delivery that failed in a way worth retrying waits ('delayed') for its next try instead of failing: the
-- budget runs from first_attempt_at (DELIVERY_RETRY_BUDGET). redrive_id: the dead letter last redriven.
ALTER TABLE sink_commands DROP CONSTRAINT IF EXISTS sink_commands_status_check;
ALTER TABLE sink_commands ADD CONSTRAINT sink_commands_status_check
  CHECK (status IN ('started', 'delayed', 'completed', 'failed'));
ALTER TABLE sink_commands ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0;
ALTER TABLE sink_commands ADD COLUMN IF NOT EXISTS first_attempt_at timestamptz;
ALTER TABLE sink_commands ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz;
ALTER TABLE sink_commands ADD COLUMN IF NOT EXISTS last_error text;
ALTER TABLE sink_commands ADD COLUMN IF NOT EXISTS redrive_id text;
