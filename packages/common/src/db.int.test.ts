/**
 * Pools from createPool against the real Postgres: a connection lost while a client is checked out between
 * queries (inside a transaction, while the caller awaits something else) fails that transaction's next query; it
 * never ends the process with an unhandled 'error' event.
 */
import { Client } from 'pg';
import { createPool, ensureDatabase, inTransaction } from './db';

const url = process.env.DATABASE_URL!;
let admin: Client;

beforeAll(async () => {
  await ensureDatabase(url);
  admin = new Client({ connectionString: url });
  await admin.connect();
});

afterAll(async () => {
  await admin.end();
});

test('a connection cut between the queries of a transaction fails the transaction, not the process', async () => {
  const pool = createPool(url, 2);
  const uncaught: Error[] = [];
  const onUncaught = (err: Error) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const result = inTransaction(pool, async (client) => {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await new Promise((r) => setTimeout(r, 500)); // the lost connection is noticed while no query runs
      await client.query('SELECT 1');
    });
    await expect(result).rejects.toThrow(/terminat|Connection|not queryable/i);
    // The pool goes on with a fresh connection.
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]!.one).toBe(1);
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
    await pool.end();
  }
});
