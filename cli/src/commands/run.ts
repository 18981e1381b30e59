/** `alertbus run -t TAG -- CMD [ARGS…]`: run a command as usual and tell a tag's channel when it fails. */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { constants } from 'node:os';
import { Option, type Command } from 'commander';
import { parseLevel, sendNotification } from './notify-client';
import { formatDuration, type NotificationLevel } from '@alertbus/schemas';
import { redactCredentials } from '@alertbus/common';

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
 * What a run posts, without the credentials found in it (packages/common/src/credentials.ts). Its output is config
 * files and logs: a value after a credential's key at a line's start is taken whole, whatever it says.
 */
export const withoutSecrets = (text: string): string => redactCredentials(text, { wholeValues: true });

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
