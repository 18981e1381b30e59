/**
 * The numbers a weekly review asks for, over incidents opened in [from, to): counts, time to acknowledge and resolve, pages.
 * The durations are the incident's as its sender tells it where it can (started_at, ended_at), not alertbus's receive times.
 */
import type { Pool } from 'pg';

export interface Durations {
  /** Incidents of the window that reached the state. */
  count: number;
  median_seconds: number | null;
  p90_seconds: number | null;
}

export interface Stats {
  from: string;
  to: string;
  incidents: {
    total: number;
    by_source: Array<{ source: string; count: number }>;
    by_severity: Array<{ severity: string; count: number }>;
    by_status: Array<{ status: string; count: number }>;
  };
  time_to_acknowledge: Durations;
  time_to_resolve: Durations;
  /** UTC days. `pages` are pager alerts created for real; `dry_run` ones were only recorded. */
  pages_per_day: Array<{ day: string; pages: number; dry_run: number }>;
  incidents_per_day: Array<{ day: string; count: number }>;
  /** By number of alerts received (the incidents' counts summed), then by number of incidents. */
  noisiest_aliases: Array<{ alias: string; incidents: number; alerts: number }>;
}

const NOISIEST = 10;

/** The window is over when alertbus opened the incidents (opened_at), the durations over the sender's times. */
const WINDOW = `opened_at >= $1::timestamptz AND opened_at < $2::timestamptz`;

/** Where a duration starts: when the sender says the incident started, else when alertbus opened it. */
const START = 'COALESCE(started_at, opened_at)';
/** Where the time to resolve ends: when the sender says it ended (its resolve's endsAt), else when alertbus resolved it. */
const END = 'COALESCE(ended_at, resolved_at)';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 1000) / 1000);

/** From START to `end`, over the window's incidents that reached `reached` (a column). */
async function durations(pool: Pool, reached: string, end: string, from: string, to: string): Promise<Durations> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS count,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ${end} - ${START})) AS median,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM ${end} - ${START})) AS p90
       FROM incidents WHERE ${WINDOW} AND ${reached} IS NOT NULL`,
    [from, to],
  );
  const r = rows[0]!;
  return { count: r.count as number, median_seconds: num(r.median), p90_seconds: num(r.p90) };
}

async function countBy<K extends string>(pool: Pool, column: K, from: string, to: string): Promise<Array<Record<K, string> & { count: number }>> {
  const { rows } = await pool.query(
    `SELECT ${column} AS key, count(*)::int AS count FROM incidents WHERE ${WINDOW}
      GROUP BY ${column} ORDER BY count(*) DESC, ${column} COLLATE "C"`,
    [from, to],
  );
  return rows.map((r) => ({ [column]: r.key as string, count: r.count as number }) as Record<K, string> & { count: number });
}

export async function getStats(pool: Pool, from: string, to: string): Promise<Stats> {
  const [bySource, bySeverity, byStatus, tta, ttr, pages, perDay, noisy] = await Promise.all([
    countBy(pool, 'source', from, to),
    countBy(pool, 'severity', from, to),
    countBy(pool, 'status', from, to),
    durations(pool, 'acknowledged_at', 'acknowledged_at', from, to),
    durations(pool, 'resolved_at', END, from, to),
    pool.query(
      `SELECT to_char(date_trunc('day', recorded_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
              count(*) FILTER (WHERE NOT dry_run)::int AS pages, count(*) FILTER (WHERE dry_run)::int AS dry_run
         FROM deliveries
        WHERE type = 'PagerAlertCreated' AND ok AND recorded_at >= $1::timestamptz AND recorded_at < $2::timestamptz
        GROUP BY 1 ORDER BY 1`,
      [from, to],
    ),
    pool.query(
      `SELECT to_char(date_trunc('day', opened_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS count
         FROM incidents WHERE ${WINDOW} GROUP BY 1 ORDER BY 1`,
      [from, to],
    ),
    pool.query(
      `SELECT alias, count(*)::int AS incidents, sum(count)::int AS alerts
         FROM incidents WHERE ${WINDOW}
        GROUP BY alias ORDER BY sum(count) DESC, count(*) DESC, alias COLLATE "C" LIMIT ${NOISIEST}`,
      [from, to],
    ),
  ]);
  return {
    from,
    to,
    incidents: {
      total: bySource.reduce((n, r) => n + r.count, 0),
      by_source: bySource,
      by_severity: bySeverity,
      by_status: byStatus,
    },
    time_to_acknowledge: tta,
    time_to_resolve: ttr,
    pages_per_day: pages.rows.map((r) => ({ day: r.day as string, pages: r.pages as number, dry_run: r.dry_run as number })),
    incidents_per_day: perDay.rows.map((r) => ({ day: r.day as string, count: r.count as number })),
    noisiest_aliases: noisy.rows.map((r) => ({ alias: r.alias as string, incidents: r.incidents as number, alerts: r.alerts as number })),
  };
}
