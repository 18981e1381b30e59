/** The projection's own consumer offsets: the truth of what was applied, written with the rows they cover. */
import type { Pool, PoolClient } from 'pg';

export async function readNextOffset(
  db: Pool | PoolClient,
  consumer: string,
  topic: string,
  partition: number,
  opts: { forUpdate?: boolean } = {},
): Promise<string | null> {
  const { rows } = await db.query<{ next_offset: string }>(
    `SELECT next_offset FROM projection_offsets WHERE consumer = $1 AND topic = $2 AND "partition" = $3
     ${opts.forUpdate ? 'FOR UPDATE' : ''}`,
    [consumer, topic, partition],
  );
  return rows[0]?.next_offset ?? null;
}

/** Never moves backwards, so an instance that lost its partition mid-batch cannot undo a newer position. */
export async function storeNextOffset(
  client: PoolClient,
  consumer: string,
  topic: string,
  partition: number,
  next: string,
): Promise<void> {
  await client.query(
    `INSERT INTO projection_offsets (consumer, topic, "partition", next_offset) VALUES ($1, $2, $3, $4)
     ON CONFLICT (consumer, topic, "partition")
     DO UPDATE SET next_offset = GREATEST(projection_offsets.next_offset, EXCLUDED.next_offset)`,
    [consumer, topic, partition, next],
  );
}
