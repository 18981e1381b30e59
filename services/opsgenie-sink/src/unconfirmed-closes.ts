import { join } from 'node:path';
import { loadMigrations, migrate, type Pool } from '@alertbus/common';
import type { KeptRows } from '@alertbus/sink-runtime';

/** A close the pager accepted (202) whose request status was still unknown after the polls. */
export interface UnconfirmedClose {
  alias: string;
  commandId: string;
  requestId: string;
  /** When the 202 came (epoch ms): the settle window runs from here. */
  acceptedAtMs: number;
}

export const OPSGENIE_SINK_MIGRATIONS_OWNER = 'opsgenie-sink';

export async function migrateOpsgenieSink(pool: Pool): Promise<void> {
  await migrate(pool, OPSGENIE_SINK_MIGRATIONS_OWNER, loadMigrations(join(__dirname, '..', 'migrations')));
}

/**
 * The durable side of the notifier's unconfirmed closes (pager_unconfirmed_closes): written with the close's completion
 * (the same statement as its ledger row), read back when partitions are assigned, so a restart or a rebalance between a
 * close and the next create for its alias does not forget that the close may still be pending at the pager.
 */
export class UnconfirmedCloseStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Kept with the close's completion: the last unconfirmed close of its alias, and the rows accepted before `staleBeforeMs`
   * deleted (they can no longer hold a create back), so the table stays about one settle window's closes without a
   * round trip of its own. Two statements: a data-modifying WITH may not nest, so the delete cannot ride in the insert.
   */
  saveStatement(close: UnconfirmedClose, staleBeforeMs: number): KeptRows[] {
    return [
      {
        text: `INSERT INTO pager_unconfirmed_closes (alias, command_id, request_id, accepted_at) VALUES ($1, $2, $3, $4)
               ON CONFLICT (alias) DO UPDATE SET command_id = EXCLUDED.command_id, request_id = EXCLUDED.request_id, accepted_at = EXCLUDED.accepted_at`,
        values: [close.alias, close.commandId, close.requestId, new Date(close.acceptedAtMs)],
      },
      this.pruneStatement(staleBeforeMs),
    ];
  }

  /**
   * Kept with a completion after which the close `closeCommandId` of the alias no longer matters (and not a later one);
   * the rows accepted before `staleBeforeMs` go in the same statement.
   */
  forgetStatement(alias: string, closeCommandId: string, staleBeforeMs: number): KeptRows {
    return {
      text: 'DELETE FROM pager_unconfirmed_closes WHERE (alias = $1 AND command_id = $2) OR accepted_at < $3',
      values: [alias, closeCommandId, new Date(staleBeforeMs)],
    };
  }

  /**
   * The rows accepted before `staleBeforeMs`. Beside another completion's statement in one (see CommandLedger.finish), a
   * row this deletes and that one upserts ends up upserted: a row already changed by the same statement is skipped by a
   * DELETE, and one already deleted by it no longer conflicts with an INSERT.
   */
  private pruneStatement(staleBeforeMs: number): KeptRows {
    return { text: 'DELETE FROM pager_unconfirmed_closes WHERE accepted_at < $1', values: [new Date(staleBeforeMs)] };
  }

  /** The closes accepted since `sinceMs` (those older can no longer hold a create back, and are deleted), in one round trip. */
  async load(sinceMs: number): Promise<UnconfirmedClose[]> {
    const { rows } = await this.pool.query(
      `WITH gone AS (DELETE FROM pager_unconfirmed_closes WHERE accepted_at < $1)
       SELECT alias, command_id, request_id, accepted_at FROM pager_unconfirmed_closes WHERE accepted_at >= $1`,
      [new Date(sinceMs)],
    );
    return rows.map((r: { alias: string; command_id: string; request_id: string; accepted_at: Date }) => ({
      alias: r.alias,
      commandId: r.command_id,
      requestId: r.request_id,
      acceptedAtMs: r.accepted_at.getTime(),
    }));
  }
}
