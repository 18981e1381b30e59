/**
 * Reads of the silences table; the state filter is computed against the instant the caller gives. A silence that
 * ended more than the retention before that instant is not shown, whether or not the projection pruned it yet.
 */
import type { Pool } from 'pg';
import type { SilenceRow } from '@alertbus/projection';
import { pruneBefore } from '@alertbus/projection';

export type SilenceStateFilter = 'active' | 'pending' | 'expired' | 'all';

const END = 'LEAST(ends_at, expired_at)'; // LEAST ignores NULL: ends_at when never expired by hand

const STATE_WHERE: Record<SilenceStateFilter, string> = {
  active: `starts_at <= $1::timestamptz AND ${END} > $1::timestamptz`,
  pending: `starts_at > $1::timestamptz AND ${END} > $1::timestamptz`,
  expired: `${END} <= $1::timestamptz`,
  all: '$1::timestamptz IS NOT NULL',
};

const KEPT = `${END} >= $2::timestamptz`;

export async function listSilences(pool: Pool, state: SilenceStateFilter, now: Date, limit: number): Promise<SilenceRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM silences WHERE ${STATE_WHERE[state]} AND ${KEPT} ORDER BY created_at DESC, silence_id COLLATE "C" LIMIT $3`,
    [now.toISOString(), pruneBefore(now.getTime()), limit],
  );
  return rows.map(toSilence);
}

/** With `now`, as the API shows it (not when ended beyond the retention); without, the row as stored. */
export async function getSilence(pool: Pool, id: string, now?: Date): Promise<SilenceRow | null> {
  const { rows } =
    now === undefined
      ? await pool.query('SELECT * FROM silences WHERE silence_id = $1', [id])
      : await pool.query(`SELECT * FROM silences WHERE silence_id = $1 AND ${END} >= $2::timestamptz`, [id, pruneBefore(now.getTime())]);
  return rows[0] ? toSilence(rows[0]) : null;
}

export function toSilence(r: Record<string, unknown>): SilenceRow {
  const iso = (v: unknown) => (v === null || v === undefined ? null : (v as Date).toISOString());
  return {
    silenceId: r.silence_id as string,
    kind: r.kind as SilenceRow['kind'],
    matchers: r.matchers as string[],
    startsAt: (r.starts_at as Date).toISOString(),
    endsAt: (r.ends_at as Date).toISOString(),
    createdBy: r.created_by as string,
    comment: r.comment as string,
    createdAt: (r.created_at as Date).toISOString(),
    expiredAt: iso(r.expired_at),
    expiredBy: (r.expired_by ?? null) as string | null,
  };
}
