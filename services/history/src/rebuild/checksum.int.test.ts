/**
 * The projection's checksum (packages/projection/src/rebuild/checksum.ts) against real Postgres: a large table's rows
 * are hashed in parallel workers, and the value is the one hashing them in one backend gives.
 */
import { createPool, ensureDatabase, inTransaction, loadMigrations, migrate, type Pool } from '@alertbus/common';
import { topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { applyProjections, checksumIn, MIGRATIONS_DIR, PROJECTION_TABLES, project } from '@alertbus/projection';
import { dropTestDatabase } from '../../../../test/support/db';
import { buildStream } from '../testdata/stream';

let pool: Pool;

/** Timeline rows added beside the stream's: past `min_parallel_table_scan_size` (8 MB) with their 600-byte data. */
const EXTRA_ROWS = 20_000;
/** Keys with punctuation, capitals and a letter outside ASCII: ordered by byte (COLLATE "C") whatever the database's collation. */
const KEYS = ['a-b', 'A', 'ab', 'äb', '_x', 'B', 'a b', 'Z'];

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  pool = createPool(process.env.DATABASE_URL!);
  await migrate(pool, 'history', loadMigrations(MIGRATIONS_DIR));
  const offsets = new Map<string, number>();
  const projections = buildStream({ aliases: 20, seed: 'checksum' }).events.map((event: AnyEnvelope) => {
    const topic = topicOf(event.type);
    const offset = offsets.get(topic) ?? 0;
    offsets.set(topic, offset + 1);
    return project(event, { topic, partition: 0, offset: String(offset) });
  });
  await inTransaction(pool, (client) => applyProjections(client, projections));
  await pool.query(
    `INSERT INTO incident_timeline (event_id, incident_id, alias, type, topic, "partition", "offset", occurred_at, recorded_at, source, correlation_id, data, stage)
     SELECT k || '-' || i, NULL, 'checksum-alias', 'AlertReceived', 'alerts', 1, i, '2025-01-01T00:00:00Z'::timestamptz + i * interval '1 second',
            '2025-01-01T00:00:01Z'::timestamptz + i * interval '1 second', 'test', 'c' || i, jsonb_build_object('n', i, 'pad', repeat('x', 600)), 'received'
       FROM generate_series(1, $1::int) AS i, LATERAL (SELECT ($2::text[])[1 + i % $3::int] AS k) k`,
    [EXTRA_ROWS, KEYS, KEYS.length],
  );
  await pool.query(
    `INSERT INTO projection_offsets (consumer, topic, "partition", next_offset) SELECT k, 'alerts', 0, 1 FROM unnest($1::text[]) AS k`,
    [KEYS],
  );
});

afterAll(async () => {
  await pool.end();
  await dropTestDatabase();
});

describe('the checksum of the projection', () => {
  it('is, table by table, the sha256 over each row\'s hash in key order (byte order), as one backend computes it', async () => {
    const expected = await inTransaction(
      pool,
      async (client) => {
        await client.query(`SET LOCAL TIME ZONE 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL max_parallel_workers_per_gather = 0`);
        const out: Array<{ table: string; rows: number; sha256: string }> = [];
        for (const { table, order } of PROJECTION_TABLES) {
          const { rows } = await client.query<{ rows: string; sha256: string }>(
            `SELECT count(*)::bigint AS rows,
                    encode(sha256(coalesce(string_agg(sha256(convert_to(t::text, 'UTF8')), ''::bytea ORDER BY ${order}), ''::bytea)), 'hex') AS sha256
               FROM public.${table} t`,
          );
          out.push({ table, rows: Number(rows[0]!.rows), sha256: rows[0]!.sha256 });
        }
        return out;
      },
      'snapshot',
    );
    const sum = await inTransaction(pool, (client) => checksumIn(client, 'public'), 'snapshot');

    expect(sum.tables).toEqual(expected);
    expect(sum.tables.find((t) => t.table === 'incident_timeline')!.rows).toBeGreaterThan(EXTRA_ROWS);
    expect(sum.tables.find((t) => t.table === 'incidents')!.rows).toBeGreaterThan(0);
    expect(sum.tables.find((t) => t.table === 'deliveries')!.rows).toBeGreaterThan(0);
  });

  it("hashes a large table's rows in parallel workers", async () => {
    const client = await pool.connect();
    const plans: string[] = [];
    const onNotice = (msg: { message?: string }) => plans.push(msg.message ?? '');
    client.on('notice', onNotice);
    try {
      // Every statement's plan, sent to this client as a message.
      await client.query(`LOAD 'auto_explain'`);
      await client.query(`SET auto_explain.log_min_duration = 0; SET client_min_messages = log`);
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await checksumIn(client, 'public');
      await client.query('COMMIT');
    } finally {
      client.off('notice', onNotice);
      await client.query('RESET client_min_messages; RESET auto_explain.log_min_duration').catch(() => undefined);
      client.release(true);
    }
    const timeline = plans.filter((p) => p.includes('"public"."incident_timeline"'));
    expect(timeline).toHaveLength(1);
    expect(timeline[0]).toMatch(/Workers Planned: [1-9]/);
  });
});
