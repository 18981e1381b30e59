/**
 * The Idempotency-Key of POST /api/silences: a request sent again with the same key by the same token name within
 * 24 h is answered with the silence the first one made, instead of making a second. The requests are kept in a table
 * of the API's own, shared by every history instance and kept across restarts and rebuilds (a rebuild swaps only the
 * projection's tables).
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { Migration } from '@alertbus/common';
import type { Envelope } from '@alertbus/schemas';

/** How long a key is remembered: a retry comes within seconds or minutes; a day covers a client that queued it. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/** The migrations' owner in schema_migrations: not the projection's, so its rebuilds and checksums leave it alone. */
export const IDEMPOTENCY_MIGRATIONS_OWNER = 'history-api';

export const IDEMPOTENCY_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: '001_silence_requests',
    sql: `CREATE TABLE silence_requests (
            identity text NOT NULL,
            idempotency_key text NOT NULL,
            body_digest text NOT NULL,
            silence_id text NOT NULL,
            event jsonb NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (identity, idempotency_key)
          );
          CREATE INDEX silence_requests_created_at_idx ON silence_requests (created_at);`,
  },
];

export const BAD_KEY = 'Idempotency-Key must be 1-200 printable ASCII characters without spaces';

/** The header's key, undefined when there is none (or it is empty, as ingest's POST /notify takes it), or an error. */
export function idempotencyKeyOf(header: unknown): { ok: true; key: string | undefined } | { ok: false; error: string } {
  if (header === undefined || header === '') return { ok: true, key: undefined };
  if (typeof header !== 'string' || header.length > 200 || !/^[\x21-\x7e]+$/.test(header)) return { ok: false, error: BAD_KEY };
  return { ok: true, key: header };
}

/** The request body's digest, the same whatever the order of its fields. */
export function bodyDigest(body: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
              .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v;
  return createHash('sha256').update(JSON.stringify(canonical(body))).digest('hex');
}

export interface SilenceRequestRecord {
  bodyDigest: string;
  silenceId: string;
  /** The SilenceCreated the first request wrote: sent again, as it is, when the silence is not in the history. */
  event: Envelope<'SilenceCreated'>;
}

/** The request this name made with this key within the window before `now`, or null. */
export async function findRequest(pool: Pool, identity: string, key: string, now: Date): Promise<SilenceRequestRecord | null> {
  const { rows } = await pool.query(
    `SELECT body_digest, silence_id, event FROM silence_requests
      WHERE identity = $1 AND idempotency_key = $2 AND created_at > $3::timestamptz`,
    [identity, key, new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString()],
  );
  const r = rows[0];
  return r ? { bodyDigest: r.body_digest as string, silenceId: r.silence_id as string, event: r.event as Envelope<'SilenceCreated'> } : null;
}

/**
 * Records a first request; false when another request with the key got there first (findRequest gives it). Keys past
 * the window are forgotten here, so the table holds a day of requests.
 */
export async function recordRequest(pool: Pool, identity: string, key: string, now: Date, r: SilenceRequestRecord): Promise<boolean> {
  await pool.query('DELETE FROM silence_requests WHERE created_at <= $1::timestamptz', [new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS).toISOString()]);
  const { rowCount } = await pool.query(
    `INSERT INTO silence_requests (identity, idempotency_key, body_digest, silence_id, event, created_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::timestamptz) ON CONFLICT (identity, idempotency_key) DO NOTHING`,
    [identity, key, r.bodyDigest, r.silenceId, JSON.stringify(r.event), now.toISOString()],
  );
  return rowCount === 1;
}

/** Forgets a request whose write Kafka refused (nothing was written): its retry is a first request again. */
export async function forgetRequest(pool: Pool, identity: string, key: string, silenceId: string): Promise<void> {
  await pool.query('DELETE FROM silence_requests WHERE identity = $1 AND idempotency_key = $2 AND silence_id = $3', [identity, key, silenceId]);
}
