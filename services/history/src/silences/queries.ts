/**
 * Reads of the silences table; the state filter is computed against the instant the caller gives. A silence that
 * ended more than the retention before that instant is not shown, whether or not the projection pruned it yet.
 */
import type { Pool } from 'pg';
import type { SilenceRow } from '@alertbus/projection';
import { pruneBefore } from '@alertbus/projection';
import { keysetPage } from '../api/cursor';
import { afterPosition, BadCursorError, exactTime, listDigest, OTHER_FILTERS, readListCursor, SILENCE_LIST, type ListCursor } from '../api/queries';

export type SilenceStateFilter = 'active' | 'pending' | 'expired' | 'all';

const END = 'LEAST(ends_at, expired_at)'; // LEAST ignores NULL: ends_at when never expired by hand

const STATE_WHERE: Record<SilenceStateFilter, string> = {
  active: `starts_at <= $1::timestamptz AND ${END} > $1::timestamptz`,
  pending: `starts_at > $1::timestamptz AND ${END} > $1::timestamptz`,
  expired: `${END} <= $1::timestamptz`,
  all: '$1::timestamptz IS NOT NULL',
};

const KEPT = `${END} >= $2::timestamptz`;

export interface SilenceListQuery {
  state: SilenceStateFilter;
  /** The instant states are computed for, as the caller gave it; absent: `defaultNow`, or the first page's. */
  now?: string;
  cursor?: string;
  limit: number;
}

/** A silence list cursor also holds the instant of its first page, so every page computes states for the same one. */
interface SilenceCursor extends ListCursor {
  n: string;
}

export interface SilencePage {
  items: SilenceRow[];
  /** The instant the states were computed for. */
  now: Date;
  nextCursor: string | null;
}

/** Newest first, the id breaking ties: keyset pages like the incidents'. Throws BadCursorError for a cursor of another list. */
export async function listSilences(pool: Pool, q: SilenceListQuery, defaultNow: Date): Promise<SilencePage> {
  const digest = listDigest(SILENCE_LIST, { state: q.state });
  let now = q.now === undefined ? defaultNow : new Date(q.now);
  let after: ListCursor | undefined;
  if (q.cursor !== undefined) {
    const c = readListCursor(q.cursor, digest);
    if (typeof c.n !== 'string' || Number.isNaN(Date.parse(c.n))) throw new BadCursorError('invalid cursor: pass back the next_cursor of a previous page');
    if (q.now !== undefined && Date.parse(q.now) !== Date.parse(c.n)) throw new BadCursorError(OTHER_FILTERS);
    now = new Date(c.n);
    after = c;
  }
  const values: unknown[] = [now.toISOString(), pruneBefore(now.getTime())];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = [STATE_WHERE[q.state], KEPT];
  if (after) where.push(afterPosition(after, 'created_at', 'silence_id', param));
  const limit = param(q.limit + 1);
  const { rows } = await pool.query(
    `SELECT *, ${exactTime('created_at')} AS cursor_time FROM silences WHERE ${where.join(' AND ')}
      ORDER BY created_at DESC, silence_id COLLATE "C" LIMIT ${limit}`,
    values,
  );
  const { page, nextCursor } = keysetPage(
    rows,
    q.limit,
    (last): SilenceCursor => ({ t: last.cursor_time as string, i: last.silence_id as string, f: digest, n: now.toISOString() }),
  );
  return { items: page.map(toSilence), now, nextCursor };
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
