/** `alertbus silence add|list|expire`: silences and maintenance windows through the history API. */
import type { Command } from 'commander';
import { HistoryClient, cli, historyUrl } from '@alertbus/history';

const collect = (value: string, previous: string[]) => [...previous, value];

function silenceRows(silences: any[]): string {
  if (silences.length === 0) return 'no silences';
  return cli.table(
    ['id', 'state', 'kind', 'starts', 'ends', 'by', 'matchers', 'comment'],
    silences.map((s) => [
      s.silence_id,
      s.state,
      s.kind,
      s.starts_at,
      s.expired_at && s.expired_at < s.ends_at ? `${s.expired_at} (expired by ${s.expired_by})` : s.ends_at,
      s.created_by,
      s.matchers.join(','),
      cli.clip(s.comment, 50),
    ]),
  );
}

export function registerSilence(program: Command): void {
  const silence = program.command('silence').description('silences and maintenance windows (written to Kafka through the history API)');
  const url = '--url <url>';
  const urlHelp = 'history API (default HISTORY_URL or http://127.0.0.1:8081)';

  silence
    .command('add')
    .description('silence alerts matching every --matcher, for --duration or until --ends-at')
    .option('--matcher <matcher>', 'Alertmanager matcher, e.g. team="db" or alertname=~"Disk.*" (repeatable, at least one)', collect, [])
    .option('--duration <duration>', 'e.g. 30m, 2h, 1d')
    .option('--ends-at <time>', 'ISO 8601 end instead of --duration')
    .option('--starts-at <time>', 'ISO 8601 start (default now)')
    .requiredOption('--comment <text>', 'why')
    .option('--author <name>', 'who (default $USER)')
    .option('--maintenance', 'record it as a maintenance window')
    .option('--json', 'print the created silence as JSON')
    .option(url, urlHelp)
    .action(async (opts) => {
      if (opts.matcher.length === 0) throw new Error('give at least one --matcher, e.g. --matcher \'team="db"\'');
      const author = opts.author ?? process.env.USER;
      if (!author) throw new Error('--author is required (no $USER to default to)');
      const created = await new HistoryClient(historyUrl(opts.url)).request('POST', '/api/silences', {
        matchers: opts.matcher,
        ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
        ...(opts.endsAt !== undefined ? { endsAt: opts.endsAt } : {}),
        ...(opts.startsAt !== undefined ? { startsAt: opts.startsAt } : {}),
        createdBy: author,
        comment: opts.comment,
        kind: opts.maintenance ? 'maintenance' : 'silence',
      });
      if (opts.json) return cli.printJson(cli.stdout, created);
      cli.stdout.write(`${created.silence_id}\n${silenceRows([created])}\n`);
    });

  silence
    .command('list')
    .description('silences by state (from the projection)')
    .option('--state <state>', 'active, pending, expired or all', 'active')
    .option('--json', 'print the API response as JSON')
    .option(url, urlHelp)
    .action(async (opts) => {
      const body = await new HistoryClient(historyUrl(opts.url)).get('/api/silences', { state: opts.state });
      if (opts.json) return cli.printJson(cli.stdout, body);
      cli.stdout.write(`${silenceRows(body.silences)}\n`);
    });

  silence
    .command('expire <id>')
    .description('end a silence now')
    .option('--author <name>', 'who (default $USER)')
    .option('--json', 'print the silence as JSON')
    .option(url, urlHelp)
    .action(async (id: string, opts) => {
      const by = opts.author ?? process.env.USER ?? 'anonymous';
      const body = await new HistoryClient(historyUrl(opts.url)).request(
        'DELETE',
        `/api/silences/${encodeURIComponent(id)}?by=${encodeURIComponent(by)}`,
      );
      if (opts.json) return cli.printJson(cli.stdout, body);
      cli.stdout.write(`${silenceRows([body])}\n`);
    });
}
