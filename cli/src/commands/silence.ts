/** `alertbus silence add|list|expire`: silences and maintenance windows through the history API. */
import { randomUUID } from 'node:crypto';
import { Option, type Command } from 'commander';
import { HistoryApiError, HistoryClient, historyUrl } from '@alertbus/history-client';
import * as cli from '../support';

const collect = (value: string, previous: string[]) => [...previous, value];

/** How many pending silences the default listing counts, at most, to mention them. */
const PENDING_NAMED = 100;

function silenceRows(silences: any[], state = 'all'): string {
  if (silences.length === 0) return state === 'all' ? 'no silences' : `no ${state} silences`;
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

/** The author is the name of ALERTBUS_TOKEN's holder; an --author that would be ignored is refused instead. */
const authorOption = () => new Option('--author <name>').hideHelp();
function refuseAuthor(author: string | undefined): void {
  if (author !== undefined) {
    throw new Error('--author is not accepted: the history API records the name of the token in ALERTBUS_TOKEN as the author');
  }
}

/** The request fields of POST /api/silences, by the flag that sets each. */
const FLAG_OF: Readonly<Record<string, string>> = {
  matchers: '--matcher',
  startsAt: '--starts-at',
  endsAt: '--ends-at',
  duration: '--duration',
  comment: '--comment',
  kind: '--maintenance',
  allowAll: '--allow-all',
};

/**
 * The API's refusal in the words of the command line: its messages name request fields, which a user of
 * `silence add` never typed. Only the API's own phrases are rewritten, never the matchers it quotes back.
 */
function inFlagTerms(message: string): string {
  return message
    .replace(/invalid body "(\w+)(?:\/\d+)?"/, (whole, field: string) => (FLAG_OF[field] ? `invalid ${FLAG_OF[field]}` : whole))
    .replace('send "allowAll": true, with a comment saying why,', 'pass --allow-all, with a --comment saying why,')
    .replace('send "allowAll": true', 'pass --allow-all')
    .replace('give exactly one of endsAt and duration', 'give exactly one of --duration and --ends-at')
    .replace('endsAt must be after startsAt', '--ends-at must be after --starts-at')
    .replace('give a shorter duration or an earlier endsAt', 'give a shorter --duration or an earlier --ends-at')
    .replace(/(: \d{3} )(startsAt|endsAt|duration|comment)\b/, (_, head: string, field: string) => `${head}${FLAG_OF[field]}`);
}

interface AddOptions {
  matcher: string[];
  duration?: string;
  endsAt?: string;
  startsAt?: string;
  comment: string;
  allowAll?: boolean;
  maintenance?: boolean;
}

/** What the flags leave unsaid or contradict, found before a request is sent; null when they are complete. */
function addUsageProblem(opts: AddOptions): string | null {
  if (opts.matcher.length === 0 && !opts.allowAll) {
    return 'give at least one --matcher, e.g. --matcher \'team="db"\' (or --allow-all to silence every alert)';
  }
  if ((opts.duration === undefined) === (opts.endsAt === undefined)) {
    return `give exactly one of --duration (e.g. 2h) and --ends-at (an ISO 8601 time)${opts.duration !== undefined ? ', not both' : ''}`;
  }
  if (opts.comment.trim() === '') return '--comment is blank: say why the alerts are silenced';
  return null;
}

export function registerSilence(program: Command): void {
  const silence = program.command('silence').description('silences and maintenance windows (written to Kafka through the history API)');
  const url = '--url <url>';
  const urlHelp = 'history API (default HISTORY_URL or http://127.0.0.1:8081)';

  silence
    .command('add')
    .description('silence alerts matching every --matcher, for --duration or until --ends-at (needs ALERTBUS_TOKEN, role operator)')
    .option('--matcher <matcher>', 'Alertmanager matcher, e.g. team="db" or alertname=~"Disk.*" (repeatable, at least one)', collect, [])
    .option('--duration <duration>', 'how long, e.g. 30m, 2h, 1d (at most the service\'s SILENCE_MAX_DURATION, 30d by default); this or --ends-at is required')
    .option('--ends-at <time>', 'ISO 8601 end instead of --duration')
    .option('--starts-at <time>', 'ISO 8601 start (default now)')
    .requiredOption('--comment <text>', 'why (required)')
    .option('--allow-all', 'the matchers (or none) silence every alert, and that is meant')
    .option('--maintenance', 'record it as a maintenance window')
    .option('--json', 'print the created silence as JSON')
    .option(url, urlHelp)
    .addOption(authorOption())
    .action(async (opts, cmd: Command) => {
      refuseAuthor(opts.author);
      const problem = addUsageProblem(opts);
      if (problem) cmd.error(`error: ${problem}`, { exitCode: 2, code: 'alertbus.usage' });
      const body = {
        matchers: opts.matcher,
        ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
        ...(opts.endsAt !== undefined ? { endsAt: opts.endsAt } : {}),
        ...(opts.startsAt !== undefined ? { startsAt: opts.startsAt } : {}),
        comment: opts.comment,
        kind: opts.maintenance ? 'maintenance' : 'silence',
        ...(opts.allowAll ? { allowAll: true } : {}),
      };
      // One key per invocation: should this request reach the API twice (a proxy's retry), the second is the same silence.
      let created;
      try {
        created = await new HistoryClient(historyUrl(opts.url)).request('POST', '/api/silences', body, { 'idempotency-key': randomUUID() });
      } catch (err) {
        if (err instanceof HistoryApiError && err.status >= 400 && err.status < 500) throw new HistoryApiError(inFlagTerms(err.message), err.status);
        throw err;
      }
      if (opts.json) return cli.printJson(cli.stdout, created);
      cli.stdout.write(`${created.silence_id}\n${silenceRows([created])}\n${created.notice ? `${created.notice}\n` : ''}`);
    });

  silence
    .command('list')
    .description('silences by state (from the projection)')
    .option('--state <state>', 'active, pending, expired or all', 'active')
    .option('--limit <n>', 'at most this many, newest first (default: all of them)')
    .option('--json', 'print the API response as JSON (every page in one)')
    .option(url, urlHelp)
    .action(async (opts, cmd: Command) => {
      let max: number | undefined;
      if (opts.limit !== undefined) {
        max = Number(opts.limit);
        if (!Number.isInteger(max) || max < 1) throw new Error(`--limit ${JSON.stringify(opts.limit)} is not a whole number of at least 1`);
      }
      const client = new HistoryClient(historyUrl(opts.url));
      const body = await client.silences(opts.state, max);
      if (opts.json) return cli.printJson(cli.stdout, body);
      cli.stdout.write(`${silenceRows(body.silences, opts.state)}\n`);
      // A maintenance window set up ahead mutes nothing yet, but "no silences" must not hide it.
      if (cmd.getOptionValueSource('state') === 'default') {
        const pending = (await client.silences('pending', PENDING_NAMED)).silences.length;
        if (pending > 0) {
          const many = pending >= PENDING_NAMED ? `${PENDING_NAMED} or more` : String(pending);
          cli.stdout.write(`(and ${many} pending, starting later: alertbus silence list --state pending)\n`);
        }
      }
      if (body.truncated) {
        process.stderr.write(`alertbus silence list: the newest ${body.silences.length} ${opts.state} silences are shown; there are more (a higher --limit, or none for all)\n`);
      }
    });

  silence
    .command('expire <id>')
    .description('end a silence now (needs ALERTBUS_TOKEN, role operator)')
    .option('--json', 'print the silence as JSON')
    .option(url, urlHelp)
    .addOption(authorOption())
    .action(async (id: string, opts) => {
      refuseAuthor(opts.author);
      const body = await new HistoryClient(historyUrl(opts.url)).request('DELETE', `/api/silences/${encodeURIComponent(id)}`);
      if (opts.json) return cli.printJson(cli.stdout, body);
      cli.stdout.write(`${silenceRows([body])}\n`);
    });
}
