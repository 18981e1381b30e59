/** The projection's own consumer offsets: the truth of what was applied, written with the rows they cover. */
import { escapeLiteral, type Pool, type PoolClient } from 'pg';

/** Where one partition's offset is stored. */
export interface OffsetKey {
  consumer: string;
  topic: string;
  partition: number;
}

export async function readNextOffset(
  db: Pool | PoolClient,
  consumer: string,
  topic: string,
  partition: number,
): Promise<string | null> {
  const { rows } = await db.query<{ next_offset: string }>(
    'SELECT next_offset FROM projection_offsets WHERE consumer = $1 AND topic = $2 AND "partition" = $3',
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
  await client.query(storeNextOffsetSql({ consumer, topic, partition }, next));
}

/**
 * The same read (`FOR UPDATE`) and store as SQL text with literal values, for a simple-protocol query that
 * carries other statements with it (BEGIN before the read, COMMIT after the store): one round trip each instead
 * of two. Such a query cannot take parameters: the values are written into it, escaped.
 */
export function readNextOffsetForUpdateSql(key: OffsetKey): string {
  return `SELECT next_offset FROM projection_offsets WHERE ${whereKey(key)} FOR UPDATE`;
}

export function storeNextOffsetSql(key: OffsetKey, next: string): string {
  return storeNextOffsetsSql(key.consumer, [{ topic: key.topic, partition: key.partition, next }]);
}

/**
 * Several partitions' offsets of one consumer read `FOR UPDATE` in one statement, locked in (topic, partition) order:
 * two transactions that lock overlapping sets wait for each other instead of each holding a row the other needs.
 */
export function readNextOffsetsForUpdateSql(consumer: string, keys: ReadonlyArray<{ topic: string; partition: number }>): string {
  const values = keys.map((k) => `(${escapeLiteral(k.topic)}, ${partitionNumber(k.partition)})`).join(', ');
  return `SELECT topic, "partition", next_offset FROM projection_offsets
     WHERE consumer = ${escapeLiteral(consumer)} AND (topic, "partition") IN (VALUES ${values})
     ORDER BY topic, "partition" FOR UPDATE`;
}

/** Several partitions' new offsets in one statement (each partition once), never moving one backwards. */
export function storeNextOffsetsSql(consumer: string, offsets: ReadonlyArray<{ topic: string; partition: number; next: string }>): string {
  const values = offsets.map((o) => {
    if (!/^[0-9]+$/.test(o.next)) throw new Error(`not an offset: ${o.next}`);
    return `(${escapeLiteral(consumer)}, ${escapeLiteral(o.topic)}, ${partitionNumber(o.partition)}, ${o.next})`;
  });
  return `INSERT INTO projection_offsets (consumer, topic, "partition", next_offset)
     VALUES ${values.join(', ')}
     ON CONFLICT (consumer, topic, "partition")
     DO UPDATE SET next_offset = GREATEST(projection_offsets.next_offset, EXCLUDED.next_offset)`;
}

function whereKey(key: OffsetKey): string {
  return `consumer = ${escapeLiteral(key.consumer)} AND topic = ${escapeLiteral(key.topic)} AND "partition" = ${partitionNumber(key.partition)}`;
}

function partitionNumber(partition: number): string {
  if (!Number.isSafeInteger(partition) || partition < 0) throw new Error(`not a partition: ${partition}`);
  return String(partition);
}
