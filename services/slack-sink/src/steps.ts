import type { Pool } from '@alertbus/common';

/**
 * The steps of a command with several effects (an acknowledgement, then an answer…), each recorded right
 * after it happened, so retries and restarts skip what is done: each step at most once in effect.
 */
export class CommandSteps {
  constructor(private readonly pool: Pool) {}

  async load(commandId: string): Promise<Map<string, Record<string, unknown>>> {
    const { rows } = await this.pool.query<{ step: string; data: Record<string, unknown> }>(
      'SELECT step, data FROM slack_command_steps WHERE command_id = $1',
      [commandId],
    );
    return new Map(rows.map((r) => [r.step, r.data]));
  }

  /** Records a step; the first record of a step wins (a concurrent duplicate changes nothing). */
  async save(commandId: string, step: string, data: Record<string, unknown>): Promise<void> {
    await this.pool.query(
      `INSERT INTO slack_command_steps (command_id, step, data) VALUES ($1, $2, $3)
       ON CONFLICT (command_id, step) DO NOTHING`,
      [commandId, step, JSON.stringify(data)],
    );
  }
}
