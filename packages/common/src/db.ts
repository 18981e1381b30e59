import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool, type PoolClient, type QueryConfig, type QueryResult } from 'pg';
import { envInt } from './config';

export { Pool, type PoolClient };

/**
 * How long Postgres may take: to open a connection, and to run one statement. Without them, a database that
 * is unreachable but silent (a dropped route, a firewall) hangs every caller, /readyz included.
 */
export interface PgTimeouts {
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

export const DEFAULT_PG_TIMEOUTS: PgTimeouts = { connectTimeoutMs: 5_000, statementTimeoutMs: 30_000 };

/** PG_CONNECT_TIMEOUT_MS and PG_STATEMENT_TIMEOUT_MS. */
export function pgTimeoutsFromEnv(env: Record<string, string | undefined> = process.env): PgTimeouts {
  return {
    connectTimeoutMs: envInt(env, 'PG_CONNECT_TIMEOUT_MS', DEFAULT_PG_TIMEOUTS.connectTimeoutMs, { min: 100, max: 600_000 }),
    statementTimeoutMs: envInt(env, 'PG_STATEMENT_TIMEOUT_MS', DEFAULT_PG_TIMEOUTS.statementTimeoutMs, { min: 100, max: 86_400_000 }),
  };
}

/**
 * The client settings for the timeouts: statement_timeout is enforced by the server; query_timeout (a little
 * longer) by the client, for a server that no longer answers at all; keepAlive notices a dead connection.
 */
export function pgClientTimeouts(t: PgTimeouts = pgTimeoutsFromEnv()) {
  return {
    connectionTimeoutMillis: t.connectTimeoutMs,
    statement_timeout: t.statementTimeoutMs,
    query_timeout: t.statementTimeoutMs + 5_000,
    keepAlive: true,
  };
}

/** Creates the database named in the URL when it does not exist yet (connecting to `postgres` to do so). */
export async function ensureDatabase(url: string, timeouts: PgTimeouts = pgTimeoutsFromEnv()): Promise<void> {
  const target = new URL(url);
  const dbName = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!dbName) throw new Error('DATABASE_URL names no database');
  const probe = new Client({ connectionString: url, ...pgClientTimeouts(timeouts) });
  try {
    await probe.connect();
    await probe.end();
    return;
  } catch (err) {
    await probe.end().catch(() => undefined);
    if ((err as { code?: string }).code !== '3D000') throw err; // 3D000: invalid_catalog_name
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), ...pgClientTimeouts(timeouts) });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${dbName.replace(/"/g, '""')}"`);
  } catch (err) {
    // 42P04 duplicate_database, or 23505 when two CREATE DATABASE race on the catalog index: created concurrently
    const code = (err as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw err;
  } finally {
    await client.end();
  }
}

/** A pool with the connect and statement timeouts (from PG_CONNECT_TIMEOUT_MS / PG_STATEMENT_TIMEOUT_MS unless given). */
export function createPool(url: string, max = 5, timeouts: PgTimeouts = pgTimeoutsFromEnv(), extra: { options?: string } = {}): Pool {
  const pool = new Pool({ connectionString: url, max, ...pgClientTimeouts(timeouts), ...extra });
  pool.on('error', () => undefined); // idle-client errors surface on the next query instead
  // A client checked out but between queries (inside a transaction, while the caller awaits Kafka) emits a lost
  // connection as an 'error' event that nothing listens to, which would end the process; its next query fails
  // instead, and the caller's retry policy takes it from there.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Reads `NNN_name.sql` files from a folder, in version order. */
export function loadMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.split('_')[0]), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

/**
 * Applies each owner's pending migrations once, under an advisory lock so concurrent services starting
 * together do not race; each migration runs in its own transaction with its bookkeeping row.
 */
export async function migrate(pool: Pool, owner: string, migrations: Migration[]): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  // Migrations and the wait for another process's migrations may take longer than one statement may.
  const q = (text: string, values?: unknown[]) =>
    client.query({ text, values, query_timeout: UNLIMITED_QUERY_MS } as QueryConfig) as Promise<QueryResult>;
  try {
    await q('SET statement_timeout TO 0');
    await q('SELECT pg_advisory_lock(7423001)');
    await q(`CREATE TABLE IF NOT EXISTS schema_migrations (
      owner text NOT NULL, version integer NOT NULL, name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (owner, version))`);
    const { rows } = await q('SELECT version FROM schema_migrations WHERE owner = $1', [owner]);
    const done = new Set((rows as Array<{ version: number }>).map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await q('BEGIN');
      try {
        await q(m.sql);
        await q('INSERT INTO schema_migrations (owner, version, name) VALUES ($1, $2, $3)', [owner, m.version, m.name]);
        await q('COMMIT');
        applied.push(m.version);
      } catch (err) {
        await q('ROLLBACK');
        throw new Error(`migration ${owner}/${m.name} failed: ${(err as Error).message}`);
      }
    }
  } finally {
    await q('SELECT pg_advisory_unlock(7423001)').catch(() => undefined);
    await q('RESET statement_timeout').catch(() => undefined);
    client.release();
  }
  return applied;
}

/** A client-side query timeout long enough to mean "none", for the statements allowed to run long. */
export const UNLIMITED_QUERY_MS = 24 * 3_600_000;

/**
 * How a transaction begins: 'read-write' (the default), or 'snapshot': read-only at one consistent instant
 * (REPEATABLE READ), for reads that must describe the same moment.
 */
export type TransactionMode = 'read-write' | 'snapshot';

const BEGIN: Record<TransactionMode, string> = {
  'read-write': 'BEGIN',
  snapshot: 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
};

/** Runs fn on one client inside a transaction: committed when fn resolves, rolled back when it throws. */
export function inTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
  mode: TransactionMode = 'read-write',
): Promise<T> {
  return inTransactionWith(pool, BEGIN[mode], async (client) => ({ result: await fn(client), beforeCommit: null }));
}

/**
 * A read-write transaction whose first and last round trips carry statements of the caller's: `begin` is sent with
 * BEGIN as one simple-protocol query (statements separated by `;`, values written into the text, no parameters),
 * and fn's results as pg gives them (one per statement), and fn's `beforeCommit` text with COMMIT. Two round trips
 * fewer for a transaction that starts with a read and ends with a write. When `beforeCommit` fails, the COMMIT
 * after it does not run, and the transaction is rolled back.
 */
export function inTransactionWithStatements<T>(
  pool: Pool,
  begin: string,
  fn: (client: PoolClient, begun: QueryResult[]) => Promise<{ result: T; beforeCommit: string | null }>,
): Promise<T> {
  return inTransactionWith(pool, `BEGIN; ${begin}`, (client, begun) => fn(client, (begun as unknown as QueryResult[]).slice(1)));
}

async function inTransactionWith<T>(
  pool: Pool,
  begin: string,
  fn: (client: PoolClient, begun: QueryResult) => Promise<{ result: T; beforeCommit: string | null }>,
): Promise<T> {
  const client = await pool.connect();
  try {
    const begun = await client.query(begin);
    const { result, beforeCommit } = await fn(client, begun);
    await client.query(beforeCommit === null ? 'COMMIT' : `${beforeCommit}; COMMIT`);
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
