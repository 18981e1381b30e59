import { join } from 'node:path';
import { loadMigrations, migrate, type Pool } from '@alertbus/common';
import type { AnyEnvelope } from '@alertbus/schemas';
import { Coalescer } from './coalesce';

/**
 * started: a run is executing it (found after a crash, after an attempt that got no answer, or after a redrive: its
 *   effect is unknown, reconcile first; nextAttemptAt is set in the last two cases);
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

/**
 * A statement of the sink's own (parameters $1…$n, and no other `$` followed by a digit), written with a command's
 * completion: see CommandLedger.finish.
 */
export interface KeptRows {
  text: string;
  values: unknown[];
}

interface StartItem {
  command: AnyEnvelope;
  now: Date;
}

interface FinishItem {
  commandId: string;
  status: 'completed' | 'failed';
  result: AnyEnvelope[];
  keep?: KeptRows | readonly KeptRows[];
}

/**
 * A kept statement's text with its parameters $1…$n moved up by `offset`, to sit beside others in one statement.
 * Every `$` followed by a digit is taken for a parameter, so a kept statement has no other (no dollar quoting).
 */
export function renumberParams(keep: KeptRows, offset: number): string {
  return keep.text.replace(/\$(\d+)/g, (_, d: string) => {
    const i = Number(d);
    if (i < 1 || i > keep.values.length) throw new Error(`kept statement names $${i} but has ${keep.values.length} values`);
    return `$${i + offset}`;
  });
}

/** Which commands a sink has started and finished, so each is executed at most once in effect. */
export class CommandLedger {
  private readonly starts = new Coalescer<StartItem, { attempts: number; firstAttemptAt: Date } | undefined>(
    (items) => this.startAllIfNew(items),
    (item) => item.command.id,
  );
  private readonly finishes = new Coalescer<FinishItem, void>(
    (items) => this.finishAll(items),
    (item) => item.commandId,
  );

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
   * trip instead of lookup + markStarted for the common case, and one statement for the calls made while the
   * previous one was running (see Coalescer): the row is written before this resolves, so before any call.
   */
  startIfNew(command: AnyEnvelope, now: Date = new Date()): Promise<{ attempts: number; firstAttemptAt: Date } | undefined> {
    return this.starts.submit({ command, now });
  }

  private async startAllIfNew(items: readonly StartItem[]): Promise<Array<{ attempts: number; firstAttemptAt: Date } | undefined>> {
    const { rows } = await this.pool.query(
      `INSERT INTO sink_commands (sink, command_id, command_type, alias, status, attempts, first_attempt_at)
       SELECT $1, u.command_id, u.command_type, u.alias, 'started', 1, u.first_attempt_at
         FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS u(command_id, command_type, alias, first_attempt_at)
       ON CONFLICT (sink, command_id) DO NOTHING
       RETURNING command_id, attempts, first_attempt_at`,
      [
        this.sink,
        items.map((i) => i.command.id),
        items.map((i) => i.command.type),
        items.map((i) => i.command.alias),
        items.map((i) => i.now),
      ],
    );
    const byId = new Map<string, { attempts: number; first_attempt_at: Date }>(rows.map((r) => [r.command_id, r]));
    return items.map((i) => {
      const r = byId.get(i.command.id);
      return r ? { attempts: r.attempts, firstAttemptAt: r.first_attempt_at } : undefined;
    });
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
   * The last attempt got no answer (a timeout, a connection lost after the request went out): the API may have done
   * it, so the row stays `started` (effect unknown, looked up before anything is sent again, as after a crash), due
   * again at `next`.
   */
  async markUnanswered(commandId: string, next: Date, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE sink_commands SET status = 'started', next_attempt_at = $3, last_error = $4 WHERE sink = $1 AND command_id = $2`,
      [this.sink, commandId, next, error],
    );
  }

  /**
   * A failed command put back by `alertbus deadletter redrive`: executed again from a fresh budget, once
   * per dead letter (the redrive id), and never when it has completed. It is `started` again (effect unknown):
   * the attempt that spent its budget may have got no answer and taken effect, so it is looked for first (reconcile),
   * as after a crash. A look-up for a command that cannot have taken effect finds nothing and costs one call.
   */
  async redrive(commandId: string, redriveId: string, now: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE sink_commands SET status = 'started', attempts = 0, first_attempt_at = NULL, next_attempt_at = $4,
              last_error = NULL, result = NULL, redrive_id = $3
        WHERE sink = $1 AND command_id = $2 AND status = 'failed' AND redrive_id IS DISTINCT FROM $3`,
      [this.sink, commandId, redriveId, now],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * Marks the command finished with the events it produced, plus the rows the sink keeps with it (`keep`, a statement
   * of its own, e.g. an INSERT, or a few, e.g. an INSERT and a DELETE of rows gone out of date): all in one statement,
   * so one round trip, atomic (a data-modifying WITH always runs to completion, and the statement commits or fails
   * whole). The completions asked for while the previous one was being
   * written are written together, in one such statement (see Coalescer); this resolves once its own is committed.
   */
  finish(commandId: string, status: 'completed' | 'failed', result: AnyEnvelope[], keep?: KeptRows | readonly KeptRows[]): Promise<void> {
    return this.finishes.submit({ commandId, status, result, keep });
  }

  private async finishAll(items: readonly FinishItem[]): Promise<void[]> {
    const values: unknown[] = [];
    const kept: string[] = [];
    items.forEach((item, i) => {
      const keeps = item.keep === undefined ? [] : 'text' in item.keep ? [item.keep] : item.keep;
      keeps.forEach((keep, j) => {
        kept.push(`kept${i}_${j} AS (${renumberParams(keep, values.length)})`);
        values.push(...keep.values);
      });
    });
    const n = values.length;
    values.push(
      this.sink,
      items.map((i) => i.commandId),
      items.map((i) => i.status),
      items.map((i) => JSON.stringify(i.result)),
    );
    const update = `UPDATE sink_commands s SET status = u.status, result = u.result::jsonb, finished_at = now(), next_attempt_at = NULL
          FROM unnest($${n + 2}::text[], $${n + 3}::text[], $${n + 4}::text[]) AS u(command_id, status, result)
         WHERE s.sink = $${n + 1} AND s.command_id = u.command_id`;
    await this.pool.query(kept.length > 0 ? `WITH ${kept.join(', ')} ${update}` : update, values);
    return items.map(() => undefined);
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
