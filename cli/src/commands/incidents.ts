/** `alertbus incidents [filters]` and `alertbus incidents show ID`: the history API from the terminal. */
import type { Command } from 'commander';
import { HistoryClient, historyUrl } from '@alertbus/history-client';
import * as cli from '../support';
import { acknowledgedByFull, acknowledgedByShown, resolvedByFull } from './incidents-people';
import { placesLine } from './incidents-places';
import { senderTimeLines, startedShown } from './incidents-times';
import { summarize, textCutsText } from '@alertbus/projection';
import type { AnyEnvelope } from '@alertbus/schemas';

interface ListOptions {
  status?: string;
  source?: string;
  severity?: string;
  alias?: string;
  channel?: string;
  from?: string;
  to?: string;
  q?: string;
  limit?: string;
  cursor?: string;
  json?: boolean;
  url?: string;
}

export function registerIncidents(program: Command): void {
  const incidents = program
    .command('incidents')
    .description('list incidents from the history API, newest first (filters combine)')
    .option('--status <status>', 'open, acknowledged or resolved')
    .option('--source <source>', 'alertmanager, grafana, generic')
    .option('--severity <severity>', 'exact severity')
    .option('--alias <alias>', 'every occurrence of one alias')
    .option('--channel <channel>', 'Slack channel (#alerts, alerts, or the channel id)')
    .option('--from <time>', 'opened at or after (ISO 8601)')
    .option('--to <time>', 'opened before (ISO 8601)')
    .option('-q, --q <text>', 'text in the title or description')
    .option('--limit <n>', 'page size (at most 500)', '50')
    .option('--cursor <cursor>', 'the next page (printed under the table)')
    .option('--json', 'print the API response as JSON')
    .option('--url <url>', 'history API (default HISTORY_URL or http://127.0.0.1:8081)')
    .action(async (opts: ListOptions) => {
      const client = new HistoryClient(historyUrl(opts.url));
      const { json, url: _url, ...query } = opts;
      const body = await client.get('/api/incidents', { ...query });
      if (json) return cli.printJson(cli.stdout, body);
      const rows = (body.incidents as any[]).map((i) => [
        i.opened_at,
        startedShown(i),
        i.status,
        i.severity,
        i.source,
        String(i.count),
        acknowledgedByShown(i),
        cli.clip(i.alias, 40),
        i.incident_id,
        cli.clip(i.title, 60),
      ]);
      const lines = [
        rows.length === 0
          ? 'no incidents match'
          : cli.table(['opened', 'started', 'status', 'severity', 'source', 'count', 'acked by', 'alias', 'id', 'title'], rows),
      ];
      if (body.next_cursor) lines.push('', `more: alertbus incidents … (the same filters) --cursor ${body.next_cursor}`);
      cli.stdout.write(`${lines.join('\n')}\n`);
    });

  incidents
    .command('show <id>')
    .description('one incident and its timeline: received → decided → commands → deliveries, with the reason for each decision')
    .option('--json', 'print the API response as JSON')
    .option('--url <url>', 'history API (default HISTORY_URL or http://127.0.0.1:8081)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      // --json and --url are also options of `incidents`, which takes them wherever they are written.
      const opts = cmd.optsWithGlobals<{ json?: boolean; url?: string }>();
      const client = new HistoryClient(historyUrl(opts.url));
      const i = await client.get(`/api/incidents/${encodeURIComponent(id)}`);
      if (opts.json) return cli.printJson(cli.stdout, i);
      const rule = i.rule ? `${i.rule.name ? `"${i.rule.name}" ` : ''}(${i.rule.path}, ${i.rule.rulesVersion})` : '';
      const facts = [
        `${i.title}`,
        `  ${i.status}, ${i.severity}, ${i.source}, count ${i.count}, alias ${i.alias}, occurrence ${i.occurrence}`,
        `  opened ${i.opened_at} by rule ${rule}`,
        `  acknowledged ${i.acknowledged_at ? `${i.acknowledged_at} by ${acknowledgedByFull(i as any) || '?'}` : '-'}`,
        `  resolved ${i.resolved_at ? `${i.resolved_at}${i.resolved_by ? ` by ${resolvedByFull(i as any)}` : ''}` : '-'}`,
        ...senderTimeLines(i as any),
        placesLine(i as any),
        ...cutFacts(i.timeline as any[]),
        ...descriptionLines(i.timeline as any[]),
        '',
      ];
      const rows = (i.timeline as any[]).map((e) => [
        e.recorded_at,
        e.stage,
        e.type,
        `${e.topic}[${e.partition}]@${e.offset}`,
        summarize({ type: e.type, data: e.data } as AnyEnvelope),
      ]);
      cli.stdout.write(`${facts.join('\n')}${cli.table(['recorded', 'stage', 'type', 'position', 'detail'], rows)}\n`);
      if (i.truncated) {
        cli.stdout.write(`(the first ${rows.length} entries; the whole timeline: alertbus audit ${i.alias}, or GET /api/timeline?alias=…)\n`);
      }
    });
}

/**
 * The description of the latest alert the incident received, as alertbus kept it (Slack shows its first 3,000
 * characters), indented under the facts; terminal control characters a sender put in it are left out.
 */
function descriptionLines(timeline: Array<{ type: string; data?: { description?: unknown } }>): string[] {
  const latest = timeline.filter((e) => e.type === 'AlertReceived' && typeof e.data?.description === 'string' && e.data.description !== '').at(-1);
  if (!latest) return [];
  // eslint-disable-next-line no-control-regex
  const text = (latest.data!.description as string).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
  return ['  description:', ...text.split('\n').map((line) => `    ${line}`)];
}

/**
 * A line saying that ingest cut the text of the alerts this incident received (and what of the first it cut), so
 * nobody takes a text ending in "…[cut: N characters]" for the whole of it; none when nothing was cut.
 */
function cutFacts(timeline: Array<{ type: string; data?: { cut?: unknown } }>): string[] {
  const received = timeline.filter((e) => e.type === 'AlertReceived');
  const cut = received.filter((e) => textCutsText(e.data?.cut) !== '');
  if (cut.length === 0) return [];
  const which = received.length > 1 ? ` (${cut.length} of the ${received.length} alerts received; each in the timeline)` : '';
  return [`  text ${textCutsText(cut[0]!.data!.cut)}${which}`];
}
