import type { Pool } from '@alertbus/common';
import type { KeptRows } from '@alertbus/sink-runtime';
import type { ThreadRef } from './wire';

export interface StoredThread extends ThreadRef {
  incidentId: string;
  alias: string;
  commandId: string;
}

/** Each incident's Slack thread (channel ID + root ts) in Postgres, so replies survive a restart of the sink. */
export class ThreadStore {
  constructor(private readonly pool: Pool) {}

  async find(incidentId: string): Promise<ThreadRef | undefined> {
    const { rows } = await this.pool.query<{ channel_id: string; root_ts: string }>(
      'SELECT channel_id, root_ts FROM slack_threads WHERE incident_id = $1',
      [incidentId],
    );
    const r = rows[0];
    return r ? { channelId: r.channel_id, rootTs: r.root_ts } : undefined;
  }

  /** The statement that saves the thread, written with the root post's completion; the first root message of an incident stays its thread. */
  saveStatement(thread: StoredThread): KeptRows {
    return {
      text: `INSERT INTO slack_threads (incident_id, alias, channel_id, root_ts, command_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (incident_id) DO NOTHING`,
      values: [thread.incidentId, thread.alias, thread.channelId, thread.rootTs, thread.commandId],
    };
  }
}
