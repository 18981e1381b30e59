import { join } from 'node:path';
import { loadMigrations, migrate, type Pool } from '@alertbus/common';
import type { AnyEnvelope } from '@alertbus/schemas';

/**
 * started: a run is executing it (found after a crash: its effect is unknown, reconcile first);
 * delayed: its last attempt failed in a way worth retrying, next try at nextAttemptAt;
 * completed / failed: done, never executed again (a redrive of a failed one excepted).
 */
export type LedgerStatus = 'started' | 'delayed' | 'completed' | 'failed';

export interface LedgerEntry {
  status: LedgerStatus;
  runs: number;
  startedAt: Date;
  result: AnyEnvelope[] | null;
  /** Attempts against the external API (since the first run, or the last redrive). */
  attempts: number;
  firstAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  lastError: string | null;
  /** The dead letter this command was last redriven from. */
  redriveId: string | null;
}

export async function migrateLedger(pool: Pool): Promise<void> {
  await migrate(pool, 'sink-runtime', loadMigrations(join(__dirname, '..', 'migrations')));
}

/** Which commands a sink has started and finished, so each is executed at most once in effect. */
/** A statement of the sink's own (parameters $1…$n), written with a command's completion: see CommandLedger.finish. */
export interface KeptRows {
  text: string;
  values: unknown[];
}

export class CommandLedger {
  constructor(
    private readonly pool: Pool,
    private readonly sink: string,
  ) {}

  async lookup(commandId: string): Promise<LedgerEntry | undefined> {
    const { rows } = await this.pool.query(
      `SELECT status, runs, started_at, result, attempts, first_attempt_at, next_attempt_at, last_error, redrive_id
         FROM sink_commands WHERE sink = $1 AND command_id = $2`,
      [this.sink, commandId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      status: r.status,
      runs: r.runs,
      startedAt: r.started_at,
      result: r.result,
      attempts: r.attempts,
      firstAttemptAt: r.first_attempt_at,
      nextAttemptAt: r.next_attempt_at,
      lastError: r.last_error,
      redriveId: r.redrive_id,
    };
  }

  /**
   * For a command the ledger has never seen: records it as started (attempt 1) and returns what markStarted
   * would; for any other, changes nothing and returns undefined (look it up and decide as before). One round
   * trip instead of lookup + markStarted for the common case.
   */
  async startIfNew(command: AnyEnvelope, now: Date = new Date()): Promise<{ attempts: number; firstAttemptAt: Date } | undefined> {
    const { rows } = await this.pool.query(
      `INSERT INTO sink_commands (sink, command_id, command_type, alias, status, attempts, first_attempt_at)
       VALUES ($1, $2, $3, $4, 'started', 1, $5)
       ON CONFLICT (sink, command_id) DO NOTHING
       RETURNING attempts, first_attempt_at`,
      [this.sink, command.id, command.type, command.alias, now],
    );
    const r = rows[0];
    return r ? { attempts: r.attempts, firstAttemptAt: r.first_attempt_at } : undefined;
  }

  /**
   * Records that the command is about to be executed (before any external call), counting the attempt;
   * returns the attempt's number and when the first attempt was (where the retry budget runs from).
   */
  async markStarted(command: AnyEnvelope, now: Date = new Date()): Promise<{ attempts: number; firstAttemptAt: Date }> {
    const { rows } = await this.pool.query(
      `INSERT INTO sink_commands (sink, command_id, command_type, alias, status, attempts, first_attempt_at)
       VALUES ($1, $2, $3, $4, 'started', 1, $5)
       ON CONFLICT (sink, command_id) DO UPDATE SET
         status = 'started', runs = sink_commands.runs + 1, started_at = now(), attempts = sink_commands.attempts + 1,
         first_attempt_at = COALESCE(sink_commands.first_attempt_at, EXCLUDED.first_attempt_at), next_attempt_at = NULL
       RETURNING attempts, first_attempt_at`,
      [this.sink, command.id, command.type, command.alias, now],
    );
    return { attempts: rows[0].attempts, firstAttemptAt: rows[0].first_attempt_at };
  }

  /** The last attempt failed in a way worth retrying: the next one is due at `next`. */
  async markDelayed(commandId: string, next: Date, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE sink_commands SET status = 'delayed', next_attempt_at = $3, last_error = $4 WHERE sink = $1 AND command_id = $2`,
      [this.sink, commandId, next, error],
    );
  }

  /**
   * A failed command put back by `alertbus deadletter redrive`: executed again from a fresh budget, once
   * per dead letter (the redrive id), and never when it has completed.
   */
  async redrive(commandId: string, redriveId: string, now: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE sink_commands SET status = 'delayed', attempts = 0, first_attempt_at = NULL, next_attempt_at = $4,
              last_error = NULL, result = NULL, redrive_id = $3
        WHERE sink = $1 AND command_id = $2 AND status = 'failed' AND redrive_id IS DISTINCT FROM $3`,
      [this.sink, commandId, redriveId, now],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Marks the command finished with the events it produced, plus the rows the sink keeps with it (`keep`, one statement
   * of its own, e.g. an INSERT): both in one statement, so one round trip, atomic (a data-modifying WITH always runs to
   * completion, and the statement commits or fails whole).
   */
  async finish(commandId: string, status: 'completed' | 'failed', result: AnyEnvelope[], keep?: KeptRows): Promise<void> {
    const n = keep?.values.length ?? 0;
    const update = `UPDATE sink_commands SET status = $${n + 3}, result = $${n + 4}, finished_at = now(), next_attempt_at = NULL
          WHERE sink = $${n + 1} AND command_id = $${n + 2}`;
    await this.pool.query(keep ? `WITH kept AS (${keep.text}) ${update}` : update, [...(keep?.values ?? []), this.sink, commandId, status, JSON.stringify(result)]);
  }

  /**
   * Completes an update without executing it: `by`, later in the same batch, replaces the same message whole,
   * so this one's content would be overwritten anyway. No delivery event: nothing was sent.
   */
  async markSuperseded(command: AnyEnvelope, by: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO sink_commands (sink, command_id, command_type, alias, status, result, finished_at, superseded_by)
       VALUES ($1, $2, $3, $4, 'completed', '[]', now(), $5)
       ON CONFLICT (sink, command_id) DO UPDATE SET
         status = 'completed', result = '[]', finished_at = now(), next_attempt_at = NULL, superseded_by = EXCLUDED.superseded_by`,
      [this.sink, command.id, command.type, command.alias, by],
    );
  }

  /** Commands waiting for their next try. */
  async countDelayed(): Promise<number> {
    const { rows } = await this.pool.query(`SELECT count(*)::int AS n FROM sink_commands WHERE sink = $1 AND status = 'delayed'`, [this.sink]);
    return rows[0].n;
  }
}
