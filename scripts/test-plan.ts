/**
 * What `npm test` (scripts/test-run.ts) runs, apart from running it: the jest runs and their arguments, and the
 * process-group plumbing that lets a signal reach jest's workers. Kept apart so scripts/test-plan.test.ts can
 * check both without starting a broker.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Each run of the full suite: its projects and how many files at a time. */
export const RUNS: ReadonlyArray<{ projects: readonly string[]; workers: number }> = [
  // The whole-stack tiers two files at a time: with three stacks at once a service took over 120 s to start.
  { projects: ['scale', 'faults', 'e2e'], workers: 2 },
  // An integration file mostly waits on Kafka, so a third worker shortens the tier on 2 cores.
  { projects: ['int', 'unit'], workers: 3 },
];

export interface JestRun {
  /** Printed before the run; none for a single run of the caller's own arguments. */
  label?: string;
  args: string[];
}

/**
 * The jest runs for `npm test -- <extra>`: without extra arguments the runs above; with them one run over every
 * tier, the extra arguments first (after --selectProjects jest would take a path for a project's name).
 */
export function jestRuns(extra: readonly string[]): JestRun[] {
  if (extra.length > 0) return [{ args: [...extra, '--selectProjects', ...RUNS.flatMap((r) => r.projects)] }];
  return RUNS.map((r) => ({
    label: `${r.projects.join(', ')}: ${r.workers} files at a time`,
    args: ['--selectProjects', ...r.projects, '--maxWorkers', String(r.workers)],
  }));
}

/**
 * Runs each of `runs` in turn as `command ...prefix ...run.args`, each to its end; after a signal, none more. The exit
 * code is the first failing run's, or 130 after a signal.
 */
export async function runAll(runner: GroupRunner, runs: readonly JestRun[], command: string, prefix: readonly string[]): Promise<number> {
  let exit = 0;
  for (const run of runs) {
    if (runner.stopping) break;
    if (run.label) process.stderr.write(`\n[test] ${run.label}\n`);
    const code = await runner.run(command, [...prefix, ...run.args]);
    if (exit === 0) exit = code;
  }
  return runner.stopping ? 130 : exit;
}

/**
 * Runs `command` in a process group of its own and resolves with its exit code (1 when a signal ended it or it could
 * not start). While it runs, SIGINT and SIGTERM sent to this process go on to the whole group: sent to the child
 * alone, jest leaves its workers running.
 */
export class GroupRunner {
  /** The first signal received, if any: the caller starts nothing more after it. */
  stopping: NodeJS.Signals | undefined;
  private running: ChildProcess | undefined;

  constructor() {
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => this.forward(s));
  }

  run(command: string, args: readonly string[]): Promise<number> {
    return new Promise((resolvePromise) => {
      const child = spawn(command, args, { stdio: 'inherit', env: process.env, detached: true });
      this.running = child;
      child.on('error', (err) => {
        process.stderr.write(`cannot run ${command}: ${err.message}\n`);
        resolvePromise(1);
      });
      child.on('exit', (code, signal) => {
        this.running = undefined;
        resolvePromise(code ?? (signal ? 1 : 0));
      });
    });
  }

  private forward(signal: NodeJS.Signals): void {
    this.stopping ??= signal;
    const pid = this.running?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  }
}
