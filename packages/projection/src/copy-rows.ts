/**
 * Rows into a table by COPY, through a session-local staging table: Postgres parses COPY's text format
 * several times faster than the array literals of INSERT … SELECT FROM unnest(…), and the statement that
 * moves the staged rows keeps ON CONFLICT and RETURNING, so the rows that result are the same.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** COPY's text format: backslash, tab, newline and carriage return escaped; null as \N. */
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;

function field(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'string' ? v : String(v);
  return SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ESCAPES[c]!) : s;
}

/** One staging table per projected table and session: emptied at every commit, never seen by another session. */
export interface Staging {
  /** The staging table's name (in pg_temp): never a projected table's, so it cannot shadow one. */
  name: string;
  /** The projected table it is shaped like (resolved in the session's search path). */
  like: string;
  columns: readonly string[];
}

/**
 * Copies the rows (one value per column, in `columns` order) into the emptied staging table, in the caller's
 * transaction. A value Postgres refuses fails the COPY with the same SQLSTATE as the cast would.
 */
export async function stageRows(client: PoolClient, staging: Staging, rows: ReadonlyArray<readonly unknown[]>): Promise<void> {
  // Created once per session (CREATE … IF NOT EXISTS … LIKE costs milliseconds even when the table exists);
  // empty at the start of a transaction, emptied again when used twice in one.
  await client.query(
    `DO $$ BEGIN
       IF to_regclass('pg_temp.${staging.name}') IS NULL THEN
         CREATE TEMP TABLE ${staging.name} (LIKE ${staging.like}) ON COMMIT DELETE ROWS;
       END IF;
       DELETE FROM pg_temp.${staging.name};
     END $$`,
  );
  const lines: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    let line = field(row[0]);
    for (let j = 1; j < row.length; j++) line += '\t' + field(row[j]);
    lines[i] = line;
  }
  const copy = client.query(copyFrom(`COPY ${staging.name} (${quoted(staging.columns)}) FROM STDIN`));
  await pipeline(Readable.from([lines.join('\n') + '\n']), copy);
}

/** A column list for SQL text; the names are the code's own constants, never input. */
export const quoted = (columns: readonly string[]): string => columns.map((c) => `"${c}"`).join(', ');
