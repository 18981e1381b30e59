/**
 * `npm start` as a user runs it, in a process group of its own so a test can press Ctrl-C the way a terminal
 * does (SIGINT to the whole group), and can check that nothing of the group outlives it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '@alertbus/launcher';

export const repoRoot = resolve(__dirname, '..', '..');

export interface NpmStart {
  proc: ChildProcess;
  /** Everything written so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves when `pattern` appears in the output; rejects if npm start exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Exit code (or signal name) once it has exited and everything it started has closed its output. */
  exited: Promise<number | string>;
  /** Ctrl-C in a terminal: SIGINT to every process in the group. */
  interrupt(): void;
  /** Process ids still in the group. */
  groupMembers(): number[];
}

/** The service and stand-in ports, all free, so a run never collides with anything else on the machine. */
export async function freePortsEnv(): Promise<Record<string, string>> {
  const vars = [
    'INGEST_PORT',
    'HISTORY_PORT',
    'ROUTER_PORT',
    'SLACK_SINK_PORT',
    'OPSGENIE_SINK_PORT',
    'SLACK_STAND_IN_PORT',
    'OPSGENIE_STAND_IN_PORT',
    'EMBEDDED_POSTGRES_PORT',
  ];
  const out: Record<string, string> = {};
  for (const v of vars) out[v] = String(await freePort());
  return out;
}

/** Pids whose process group is `pgid` (Linux /proc). */
function processGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export function npmStart(args: string[], env: NodeJS.ProcessEnv): NpmStart {
  const proc = spawn('npm', ['start', '--', ...args], { cwd: repoRoot, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (b: Buffer) => {
    out += b.toString('utf8');
    if (process.env.NPM_START_VERBOSE) process.stderr.write(b);
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  // 'close', not 'exit': npm may be gone before what it started has written its last lines to the same pipes.
  const exited = new Promise<number | string>((res) => proc.once('close', (code, signal) => res(code ?? signal ?? 'unknown')));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const w of waiters) w();
  });
  return {
    proc,
    output: () => out,
    exited,
    waitFor(pattern) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            waiters.delete(check);
            res(m);
          } else if (hasExited) {
            waiters.delete(check);
            rej(new Error(`npm start exited before printing ${pattern}; its output:\n${out.slice(-6000)}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    interrupt: () => process.kill(-proc.pid!, 'SIGINT'),
    groupMembers: () => processGroup(proc.pid!),
  };
}
