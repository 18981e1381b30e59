/** `alertbus run -t TAG -- CMD [ARGS…]`: run a command as usual and tell a tag's channel when it fails. */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { constants } from 'node:os';
import { Option, type Command } from 'commander';
import { parseLevel, sendNotification } from './notify-client';
import { formatDuration, type NotificationLevel } from '@alertbus/schemas';
import { scrubSecrets } from '@alertbus/common';

/** The last `max` lines of what a command wrote, kept as it streams. */
export class TailBuffer {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max: number) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    // A line without an end can grow without bound: keep its end only.
    if (this.partial.length > 10_000) this.partial = this.partial.slice(-10_000);
  }

  text(): string {
    // slice(-0) is the whole array: --tail 0 posted the last line when it had no newline.
    if (this.max === 0) return '';
    const all = this.partial === '' ? this.lines : [...this.lines, this.partial];
    return all.slice(-this.max).join('\n');
  }
}

/** A command line as a shell would read it back. */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export interface RunReport {
  argv: readonly string[];
  host: string;
  status: number;
  /** Set when the command could not be started, or was ended by a signal. */
  note?: string;
  durationMs: number;
  tail: string;
  tailLines: number;
}

/**
 * A name that says its value is a secret: `--password`, `PGPASSWORD`, `--api-key`, `GITHUB_TOKEN`, `PASSPHRASE`, and
 * `GITHUB_PAT`, `DB_PASS`, `--pass`, `MYSQL_PWD` (`pat` and `pass` as a whole part of the name only, so `PATH` and
 * `PASSENGER_ENV` are not ones; `pwd` after another part only, so the working directory's `PWD` is not one).
 */
const NAME =
  String.raw`(?:[A-Za-z0-9_-]{0,40}(?:password|passwd|passphrase|token|secret|api[-_]?key)[A-Za-z0-9_-]{0,40}` +
  String.raw`|(?:[A-Za-z0-9_-]{0,40}[_-])?(?:pat|pass)(?:[_-][A-Za-z0-9_-]{0,40})?(?![A-Za-z0-9])` +
  String.raw`|[A-Za-z0-9_-]{0,40}[A-Za-z0-9][_-]pwd(?:[_-][A-Za-z0-9_-]{0,40})?(?![A-Za-z0-9]))`;
/** The rest of a shell word: single-quoted (commandLine writes a ' as '\''), double-quoted, or bare. */
const IN_SINGLE = String.raw`(?:[^'\n]|'\\'')*`;
const IN_DOUBLE = String.raw`(?:[^"\\\n]|\\.)*`;
/** A bare value runs to the next unescaped space: a quote inside it (`ab"cd`) or escaped (`x\"y`, `a\ b`) does not end it. */
const BARE = String.raw`(?:\\.|[^\s'"\\])(?:\\.|[^\s\\])*`;
const VALUE = String.raw`(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|${BARE})`;
const NOT_DONE = String.raw`(?!\[redacted\])`;

/** `'--password=two words'`: a whole quoted word naming a secret; its value runs to the closing quote. */
const QUOTED_NAMED_SECRET = [
  new RegExp(String.raw`(')(-{0,2}${NAME}=)${NOT_DONE}${IN_SINGLE}'`, 'gi'),
  new RegExp(String.raw`(")(-{0,2}${NAME}=)${NOT_DONE}${IN_DOUBLE}"`, 'gi'),
];
/** `--password=x`, `TOKEN="x y"`: an option or a variable named as a secret, and its value. */
const NAMED_SECRET = new RegExp(String.raw`(\b${NAME}=)${NOT_DONE}${VALUE}`, 'gi');
/** `--api-key x`, `--token 'x y'`: an option named as a secret, and the value after it. */
const SECRET_OPTION = new RegExp(String.raw`((?:^|\s)--?${NAME}[ \t]+)${NOT_DONE}(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|[^\s'"-][^\s'"]*)`, 'gi');
/** `"password": "x"`, `'api_key':'x'`: a JSON or Python-style key named as a secret, and its value (quoted or not). */
const QUOTED_KEY_SECRET = [
  new RegExp(String.raw`("${NAME}"[ \t]*:[ \t]*)(?!"?\[redacted\])(?:"${IN_DOUBLE}"|[^\s"',}\]]+)`, 'gi'),
  new RegExp(String.raw`('${NAME}'[ \t]*:[ \t]*)(?!'?\[redacted\])(?:'(?:[^'\\\n]|\\.)*'|[^\s"',}\]]+)`, 'gi'),
];
/** `password: x` at a line's start (YAML, `key: value` logs, a list item): the value runs to the line's end. */
const YAML_SECRET = new RegExp(String.raw`^([ \t]*(?:-[ \t]+)?${NAME}[ \t]*:[ \t]*)${NOT_DONE}(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|[^\s'"][^\r\n]*)`, 'gim');
/**
 * `password = x` at a line's start (INI and properties files, with a space beside `=`): the value runs to the line's end
 * (a `#` may be part of it). Without the space it is `NAMED_SECRET`'s, as `DB_PASS=x ./run` is a command line.
 */
const INI_SECRET = new RegExp(String.raw`^([ \t]*${NAME}(?:[ \t]+=[ \t]*|=[ \t]+))${NOT_DONE}(?:'${IN_SINGLE}'|"${IN_DOUBLE}"|[^\s'"][^\r\n]*)`, 'gim');
/** GitHub tokens (`ghp_…`, `gho_…`, `github_pat_…`), whatever names them: their prefix says what they are. */
const GITHUB_TOKEN = /\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})\b/g;
/** A URL's user and password, of any scheme (https, postgres, redis…). */
const URL_USERINFO = /(\b[a-z][a-z0-9+.-]{0,31}:\/\/)[^/?#@\s]{1,1024}@/gi;

/**
 * An HTTP header where a header stands: a line's start (curl -v prints `> Name: value`), a quote, `-H`/`--header`.
 * Its value runs to the end of the quoted word or line; a scheme (`Basic`, `Bearer`) stays, to say what was there.
 */
const HEADER = new RegExp(
  String.raw`((?:^|['"]|(?:^|\s)(?:-H|--(?:proxy-)?header)(?:=|[ \t]+)['"]?|^[ \t]*[<>*][ \t]+)[A-Za-z0-9-]{1,64}[ \t]*:)` +
    String.raw`(?:([ \t]+(?:(?:basic|bearer|digest|geniekey|token|negotiate|ntlm)[ \t]+)?)(?![A-Za-z0-9-]*[ \t]*\[redacted\])[^'"\r\n]+|${NOT_DONE}[^\s'"]+)`,
  'gim',
);
/** A header name that says it carries a credential: `Authorization`, `X-API-Key`, `Cookie`, `X-Auth-Token`, `X-Vault-Token`. */
const CREDENTIAL_HEADER_NAME = /(?:^|[\s'"=-])(?:authorization|auth|cookie|session|token|secret|password|passwd|api-?key|key|signature)(?:-[A-Za-z0-9-]*)?[ \t]*:$/i;

/** Options that hold a password only for some programs: they are scrubbed after that program's name. */
const PROGRAM_SECRETS: ReadonlyArray<{ program: RegExp; options: readonly RegExp[] }> = [
  {
    // curl -u user:password, --user, --proxy-user, -U: the part after the colon (docker's -u 1000:1000 is not curl's).
    program: /curl/,
    options: [
      new RegExp(String.raw`((?:^|\s)(?:'(?:-u|-U|--user|--proxy-user)(?:=|[ \t]+)?|(?:-u|-U|--user|--proxy-user)(?:=|[ \t]+)')[^\s:']*:)${NOT_DONE}${IN_SINGLE}(?=')`, 'g'),
      new RegExp(String.raw`((?:^|\s)(?:-u|-U|--user|--proxy-user)(?:=|[ \t]+)?[^\s:'"]*:)${NOT_DONE}[^\s'"]+`, 'g'),
    ],
  },
  {
    // mysql -p<password> (attached; `-p` alone prompts), and its relatives (mysqldump, mariadb, mariadb-dump…).
    program: /mysql[a-z]*|mariadb[a-z-]*/,
    options: [new RegExp(String.raw`((?:^|\s)'-p)${NOT_DONE}${IN_SINGLE}(?=')`, 'g'), new RegExp(String.raw`((?:^|\s)-p)${NOT_DONE}[^\s'"]+`, 'g')],
  },
  // sshpass -p password, redis-cli -a password.
  { program: /sshpass/, options: [new RegExp(String.raw`((?:^|\s)-p[ \t]*)${NOT_DONE}${VALUE}`, 'g')] },
  { program: /redis-cli/, options: [new RegExp(String.raw`((?:^|\s)(?:-a|--pass)[ \t]+)${NOT_DONE}${VALUE}`, 'g')] },
];

/** The text with `options` scrubbed in what follows the first time `program` is named as a command. */
function afterProgram(text: string, program: RegExp, options: readonly RegExp[]): string {
  const named = new RegExp(String.raw`(?:^|[\s/'"])(?:${program.source})(?=[\s'"]|$)`, 'm').exec(text);
  if (!named) return text;
  const at = named.index + named[0].length;
  return text.slice(0, at) + options.reduce((rest, option) => rest.replace(option, '$1[redacted]'), text.slice(at));
}

/** The quote a value opens with, to keep it around `[redacted]`; none for a bare value. */
const quoteOf = (value: string): string => (value.startsWith('"') || value.startsWith("'") ? value[0]! : '');

/**
 * What a run posts is a command line and its output, where credentials turn up (a `--password=`, a Bearer or Basic
 * header, `curl -u`, `mysql -p…`, a database URL): they go to a channel and into the history, so they are taken out first.
 */
export function withoutSecrets(text: string): string {
  let out = scrubSecrets(text)
    .replace(URL_USERINFO, '$1[redacted]@')
    .replace(GITHUB_TOKEN, '[redacted]')
    .replace(HEADER, (all, head: string, scheme: string | undefined) => (CREDENTIAL_HEADER_NAME.test(head) ? `${head}${scheme ?? ''}[redacted]` : all));
  for (const re of QUOTED_KEY_SECRET) out = out.replace(re, (all, head: string) => `${head}${quoteOf(all.slice(head.length))}[redacted]${quoteOf(all.slice(head.length))}`);
  out = out.replace(YAML_SECRET, (all, head: string) => `${head}${quoteOf(all.slice(head.length))}[redacted]${quoteOf(all.slice(head.length))}`);
  out = out.replace(INI_SECRET, (all, head: string) => `${head}${quoteOf(all.slice(head.length))}[redacted]${quoteOf(all.slice(head.length))}`);
  for (const re of QUOTED_NAMED_SECRET) out = out.replace(re, '$1$2[redacted]$1');
  out = out.replace(NAMED_SECRET, '$1[redacted]').replace(SECRET_OPTION, '$1[redacted]');
  for (const { program, options } of PROGRAM_SECRETS) out = afterProgram(out, program, options);
  return out;
}

/**
 * The notification text of a run: command line, host, exit status, duration and the end of its output, each
 * without its secrets before any markup is added, so no value swallows a closing backtick or fence.
 */
export function runText(r: RunReport): string {
  const output = withoutSecrets(r.tail);
  const tail = output.trim() === '' ? '(no output)' : `\`\`\`\n${output.replace(/```/g, "'''")}\n\`\`\``;
  return [
    `*Command:* \`${withoutSecrets(commandLine(r.argv)).replace(/`/g, "'")}\``,
    `*Host:* ${r.host}`,
    `*Exit status:* ${r.status}${r.note ? ` (${withoutSecrets(r.note)})` : ''}`,
    `*Duration:* ${formatDuration(r.durationMs)}`,
    `*Last ${r.tailLines} lines of output:*`,
    tail,
  ].join('\n');
}

/** Runs the command with its output passed through as it comes, and resolves with its exit status. */
function runCommand(argv: readonly string[], tail: TailBuffer): Promise<{ status: number; note?: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 'pipe', 'pipe'] });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, forward(sig)] as const);
    for (const [sig, h] of handlers) process.on(sig, h);
    const done = (r: { status: number; note?: string }) => {
      for (const [sig, h] of handlers) process.off(sig, h);
      resolve(r);
    };
    child.stdout.on('data', (b: Buffer) => {
      process.stdout.write(b);
      tail.push(b.toString('utf8'));
    });
    child.stderr.on('data', (b: Buffer) => {
      process.stderr.write(b);
      tail.push(b.toString('utf8'));
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`alertbus run: cannot run ${argv[0]}: ${err.message}\n`);
      done({ status: err.code === 'ENOENT' ? 127 : 126, note: `could not start: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      if (signal) done({ status: 128 + (constants.signals[signal] ?? 0), note: `killed by ${signal}` });
      else done({ status: code ?? 1 });
    });
  });
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run CMD as usual (same output, same exit status) and post its command line, host, exit status, duration and last lines to a tag\'s channel')
    .requiredOption('-t, --tag <tag>', 'notification tag (the rules file\'s tags:)')
    .addOption(new Option('--on <when>', 'post on failure only, or always').choices(['failure', 'always']).default('failure'))
    .option('--tail <n>', 'how many of the last output lines to post', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 1000) throw new Error(`--tail must be a whole number from 0 to 1000, got "${v}"`);
      return n;
    }, 20)
    .option('-l, --level <level>', 'level of a failure\'s notification (a success is good)', parseLevel, 'crit')
    .argument('<command...>', 'the command and its arguments (after --)')
    .action(async (argv: string[], opts: { tag: string; on: 'failure' | 'always'; tail: number; level: NotificationLevel }) => {
      const tail = new TailBuffer(opts.tail);
      const started = Date.now();
      const { status, note } = await runCommand(argv, tail);
      const durationMs = Date.now() - started;
      process.exitCode = status;
      if (status === 0 && opts.on !== 'always') return;
      const host = hostname();
      const text = runText({ argv, host, status, ...(note ? { note } : {}), durationMs, tail: tail.text(), tailLines: opts.tail });
      const answer = await sendNotification({
        tag: opts.tag,
        level: status === 0 ? 'good' : opts.level,
        title: withoutSecrets(`${status === 0 ? 'Succeeded' : 'Failed'} on ${host}: ${commandLine(argv)}`),
        text,
      });
      if (!answer.ok) process.stderr.write(`alertbus run: could not post the notification: ${answer.message}\n`);
    });
}
