/**
 * Rows into a table by COPY: Postgres parses COPY's text format several times faster than the array literals
 * of INSERT … SELECT FROM unnest(…), and the rows go straight into the table, with no staging table to write
 * and read again. COPY has no ON CONFLICT: the caller copies only rows it found missing, and a row that
 * appeared meanwhile fails the COPY with a unique violation (SQLSTATE 23505), which the caller handles.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * One value in COPY's text format: backslash, tab, newline and carriage return escaped; null as \N. Each character
 * looked for and replaced on its own (`includes` and `replaceAll` of a string are native passes), backslash first so
 * the escapes added after it are not escaped again. One character-class regex scanned a 1.3 kB JSON value in ~0.8 µs
 * against ~0.07 µs for the four `includes`, and its replacement called back once per match, where a JSON column has
 * a backslash for every quote or newline in it (bench/README.md, "Twenty-sixth run").
 */
function field(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  let s = typeof v === 'string' ? v : String(v);
  if (s.includes('\\')) s = s.replaceAll('\\', '\\\\');
  if (s.includes('\t')) s = s.replaceAll('\t', '\\t');
  if (s.includes('\n')) s = s.replaceAll('\n', '\\n');
  if (s.includes('\r')) s = s.replaceAll('\r', '\\r');
  return s;
}

/**
 * Text encoded a piece at a time: one string for the whole batch made every row's text be copied into a joined
 * string and then encoded at once (twice the batch in memory, and 2.4 times the CPU in bench/README.md's
 * measurement of a 31k-row run).
 */
const CHUNK_CHARS = 64 * 1024;

/**
 * Copies the rows (one value per column, in `columns` order) into `table` (resolved in the session's search
 * path), in the caller's transaction. A value Postgres refuses fails the COPY with the same SQLSTATE as the
 * cast would.
 */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>): Promise<void> {
  if (rows.length === 0) return;
  const pieces = copyText(rows);
  const copy = client.query(copyFrom(`COPY ${table} (${quoted(columns)}) FROM STDIN`));
  await pipeline(Readable.from(pieces), copy);
}

/** COPY's text format of the rows, as UTF-8 pieces of about CHUNK_CHARS characters, each ending with a whole row. */
export function copyText(rows: ReadonlyArray<readonly unknown[]>): Buffer[] {
  const out: Buffer[] = [];
  let text = '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    text += field(row[0]);
    for (let j = 1; j < row.length; j++) text += '\t' + field(row[j]);
    text += '\n';
    if (text.length >= CHUNK_CHARS) {
      out.push(Buffer.from(text, 'utf8'));
      text = '';
    }
  }
  if (text.length > 0) out.push(Buffer.from(text, 'utf8'));
  return out;
}

/** A column list for SQL text; the names are the code's own constants, never input. */
export const quoted = (columns: readonly string[]): string => columns.map((c) => `"${c}"`).join(', ');
