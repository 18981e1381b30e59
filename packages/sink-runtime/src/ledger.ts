import { join } from 'node:path';
import { inTransaction, loadMigrations, migrate, type Pool, type PoolClient } from '@alertbus/common';
import type { AnyEnvelope } from '@alertbus/schemas';

export type LedgerStatus = 'started' | 'completed' | 'failed';

export interface LedgerEntry {
  status: LedgerStatus;
  runs: number;
  startedAt: Date;
  result: AnyEnvelope[] | null;
}

export async function migrateLedger(pool: Pool): Promise<void> {
  await migrate(pool, 'sink-runtime', loadMigrations(join(__dirname, '..', 'migrations')));
}

/** Which commands a sink has started and finished, so each is executed at most once in effect. */
export class CommandLedger {
  constructor(
    private readonly pool: Pool,
    private readonly sink: string,
  ) {}

  async lookup(commandId: string): Promise<LedgerEntry | undefined> {
    const { rows } = await this.pool.query(
      'SELECT status, runs, started_at, result FROM sink_commands WHERE sink = $1 AND command_id = $2',
      [this.sink, commandId],
    );
    const r = rows[0];
    if (!r) return undefined;
    return { status: r.status, runs: r.runs, startedAt: r.started_at, result: r.result };
  }

  /** Records that the command is about to be executed (before any external call). */
  async markStarted(command: AnyEnvelope): Promise<void> {
    await this.pool.query(
      `INSERT INTO sink_commands (sink, command_id, command_type, alias, status)
       VALUES ($1, $2, $3, $4, 'started')
       ON CONFLICT (sink, command_id) DO UPDATE SET runs = sink_commands.runs + 1, started_at = now()`,
      [this.sink, command.id, command.type, command.alias],
    );
  }

  /** Marks the command finished with the events it produced, plus any rows the sink writes atomically with it. */
  async finish(
    commandId: string,
    status: 'completed' | 'failed',
    result: AnyEnvelope[],
    alsoInTransaction?: (client: PoolClient) => Promise<void>,
  ): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      if (alsoInTransaction) await alsoInTransaction(client);
      await client.query(
        `UPDATE sink_commands SET status = $3, result = $4, finished_at = now() WHERE sink = $1 AND command_id = $2`,
        [this.sink, commandId, status, JSON.stringify(result)],
      );
    });
  }
}
