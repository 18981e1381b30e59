import type { Pool } from '@alertbus/common';
import type { SinkRunner } from './runner';

/**
 * A sink is ready when its consumer runs (not crashed, no halted partition) and its database answers
 * (within PG_CONNECT_TIMEOUT_MS): without the ledger it cannot execute anything at most once.
 */
export async function sinkReadiness(runner: Pick<SinkRunner, 'problem'>, pool: Pool): Promise<string | null> {
  const problem = runner.problem();
  if (problem) return problem;
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    return `database unreachable: ${(err as Error).message}`;
  }
  return null;
}
