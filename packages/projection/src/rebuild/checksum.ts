/**
 * A checksum of the projection's tables, to show that the live projection and one rebuilt from the log hold
 * the same rows. Every row is hashed (sha256) as Postgres writes it out as text (a record's text form: every
 * column, jsonb in its normal form, times in UTC and ISO style), in primary-key order. The text form, not
 * `to_jsonb(row)`: building a JSON document of every row took about 40 % more time than hashing its text,
 * and the checksum of the rebuilt and of the live tables is a large part of a rebuild.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '@alertbus/common';

/** The projection's tables, the key columns of their rows and the order their rows are hashed in. */
export const PROJECTION_TABLES = [
  { table: 'incidents', keys: 'incident_id', order: 'incident_id COLLATE "C"' },
  { table: 'incident_timeline', keys: 'event_id', order: 'event_id COLLATE "C"' },
  { table: 'deliveries', keys: 'event_id', order: 'event_id COLLATE "C"' },
  { table: 'silences', keys: 'silence_id', order: 'silence_id COLLATE "C"' },
  { table: 'notifications', keys: 'notification_id', order: 'notification_id COLLATE "C"' },
  { table: 'projection_offsets', keys: 'consumer, topic, "partition"', order: 'consumer COLLATE "C", topic COLLATE "C", "partition"' },
] as const;

export interface TableChecksum {
  table: string;
  rows: number;
  sha256: string;
}

export interface Checksum {
  tables: TableChecksum[];
  /** sha256 over every table's line: one value to compare. */
  total: string;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Call inside a transaction (the caller picks the snapshot); sets the transaction's time zone to UTC, and lets it hash
 * a large table's rows in parallel workers.
 *
 * Nearly all of a checksum is each row's text form and its sha256. The rows are hashed in a subquery the planner
 * keeps apart (`OFFSET 0`), which parallel workers can run, and the leader orders the 32-byte hashes by key and takes
 * sha256 over them: the same value as hashing in the one backend. The planner does not count the hashing, so it would
 * not plan workers for it: with no cost for starting them or for passing rows, it plans them for every table past
 * `min_parallel_table_scan_size` (up to `max_parallel_workers_per_gather`). JIT compiling such a plan costs more
 * than it saves here.
 */
export async function checksumIn(client: PoolClient, schema: string): Promise<Checksum> {
  // Room to sort a table's row hashes in memory: a sort spilled to disk made the checksum of 1M rows crawl.
  // Times are written in UTC and ISO style whatever the session's settings, so the text of a row is fixed.
  await client.query(
    `SET LOCAL TIME ZONE 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL work_mem = '128MB';
     SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL jit = off`,
  );
  const tables: TableChecksum[] = [];
  for (const { table, keys, order } of PROJECTION_TABLES) {
    const { rows } = await client.query<{ rows: string; sha256: string }>(
      `SELECT count(*)::bigint AS rows, encode(sha256(coalesce(string_agg(h, ''::bytea ORDER BY ${order}), ''::bytea)), 'hex') AS sha256
         FROM (SELECT ${keys}, sha256(convert_to(t::text, 'UTF8')) AS h FROM ${ident(schema)}.${ident(table)} t OFFSET 0) r`,
    );
    tables.push({ table, rows: Number(rows[0]!.rows), sha256: rows[0]!.sha256 });
  }
  const total = createHash('sha256')
    .update(tables.map((t) => `${t.table} ${t.rows} ${t.sha256}\n`).join(''))
    .digest('hex');
  return { tables, total };
}

/** The checksum of one consistent snapshot of the tables in `schema` (the live ones by default). */
export function checksum(pool: Pool, schema = 'public'): Promise<Checksum> {
  return inTransaction(pool, (client) => checksumIn(client, schema), 'snapshot');
}

export function formatChecksum(c: Checksum): string {
  const width = Math.max(...c.tables.map((t) => t.table.length));
  return [
    ...c.tables.map((t) => `${t.table.padEnd(width)}  ${String(t.rows).padStart(9)} rows  sha256:${t.sha256}`),
    `${'total'.padEnd(width)}  ${''.padStart(14)}  sha256:${c.total}`,
  ].join('\n');
}
