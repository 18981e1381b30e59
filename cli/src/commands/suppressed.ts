/** `alertbus suppressed`: what alertbus kept quiet over a window and why, from the history API (GET /api/suppressed). */
import type { Command } from 'commander';
import { HistoryClient, historyUrl } from '@alertbus/history-client';
import { parseDuration } from '@alertbus/schemas';
import * as cli from '../support';
import { suppressedByText } from './suppressed-text';

interface SuppressedOptions {
  since?: string;
  from?: string;
  to?: string;
  reason?: string;
  alias?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
  url?: string;
}

/** Terminal control characters a sender may have put in a title, left out of what is printed. */
// eslint-disable-next-line no-control-regex
const printable = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

/**
 * The date-times GET /api/suppressed takes, as /api/incidents does: RFC 3339 with seconds and a full offset, a day the
 * month has. The CLI's own times (alertbus replay) also take a date alone or `+0100`; sent here they came back as a 400.
 */
const API_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function checkApiInstant(option: string, value: string): void {
  const m = API_INSTANT.exec(value);
  const [year, month, day] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const real = new Date(new Date(0).setUTCFullYear(year, month - 1, day)); // rolls 02-30 over into March, as Date.parse does
  if (m && year >= 1 && real.getUTCMonth() === month - 1 && real.getUTCDate() === day && Number.isFinite(Date.parse(value))) return;
  const example = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z (that day from midnight UTC)` : '2025-03-01T10:00:00Z or 2025-03-01T11:00:00+01:00';
  throw new Error(`${option} must be a date and time with its zone, as ${example}, got "${value}"`);
}

/** The options as the API's query, refusing locally what would only come back as a 400 naming a query parameter. */
function queryOf(opts: SuppressedOptions): Record<string, string | undefined> {
  if (opts.since !== undefined) {
    const ms = parseDuration(opts.since);
    if (ms === null || ms <= 0) throw new Error(`--since must be a duration such as 24h, 90m or 7d, got "${opts.since}"`);
    if (opts.from !== undefined) throw new Error('give --since or --from, not both');
  }
  if (opts.from !== undefined) checkApiInstant('--from', opts.from);
  if (opts.to !== undefined) checkApiInstant('--to', opts.to);
  return { since: opts.since, from: opts.from, to: opts.to, reason: opts.reason, alias: opts.alias, limit: opts.limit, cursor: opts.cursor };
}

export function registerSuppressed(program: Command): void {
  program
    .command('suppressed')
    .description(
      'what alertbus kept quiet, newest first, and why: silenced (by which silence), inhibited (by which incident), dropped ' +
        'by a rule, joined into a storm summary, a late copy of a resolved alert; then the counts by reason',
    )
    .option('--since <duration>', 'the window: this long before --to (default 24h)')
    .option('--from <time>', 'instead of --since: from this time (ISO 8601 with seconds and zone, e.g. 2025-03-01T00:00:00Z)')
    .option('--to <time>', 'up to this time (ISO 8601 with seconds and zone; default now)')
    .option('--reason <reason>', 'only this reason (silenced, inhibited, dropped-by-rule, storm-control, …)')
    .option('--alias <alias>', 'only this alias')
    .option('--limit <n>', 'page size (at most 500)', '100')
    .option('--cursor <cursor>', 'the next page (printed under the list)')
    .option('--json', 'print the API response as JSON')
    .option('--url <url>', 'history API (default HISTORY_URL or http://127.0.0.1:8081)')
    .action(async (opts: SuppressedOptions) => {
      const query = queryOf(opts);
      const client = new HistoryClient(historyUrl(opts.url));
      const body = await client.get('/api/suppressed', query);
      if (opts.json) return cli.printJson(cli.stdout, body);
      const rows = (body.suppressed as any[]).map((s) => [
        s.recorded_at,
        s.reason,
        cli.clip(printable(s.alias), 40),
        s.severity ?? '',
        printable(suppressedByText(s)),
        cli.clip(printable(s.title ?? ''), 60),
      ]);
      const window = `from ${body.from} to ${body.to}${opts.alias !== undefined ? ` for alias ${printable(opts.alias)}` : ''}`;
      const lines = [rows.length === 0 ? `nothing was suppressed${opts.reason ? ` for reason ${opts.reason}` : ''} ${window}` : cli.table(['when', 'reason', 'alias', 'severity', 'by', 'title'], rows)];
      if (body.next_cursor) lines.push('', `more: alertbus suppressed … (the same options) --cursor ${body.next_cursor}`);
      if (Array.isArray(body.counts)) {
        const counts = body.counts as Array<{ reason: string; count: number }>;
        // The counts cover every reason, whatever --reason chose: say so, or "nothing … 30 suppressed" reads as a contradiction.
        const all = opts.reason ? ' for all reasons' : '';
        lines.push('', `${body.total} decision${body.total === 1 ? '' : 's'} suppressed${all} ${window}${counts.length ? ', by reason:' : ''}`);
        const width = Math.max(0, ...counts.map((c) => c.reason.length));
        for (const c of counts) lines.push(`  ${c.reason.padEnd(width)}  ${c.count}`);
      }
      cli.stdout.write(`${lines.join('\n')}\n`);
    });
}
