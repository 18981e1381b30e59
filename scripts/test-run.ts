/**
 * The jest part of `npm test`: one Kafka broker (and, where no PostgreSQL answers, one embedded PostgreSQL) for the
 * whole run, and the tiers in two jest runs that share it:
 *  1. the whole-stack tiers (scale, faults, e2e), two files at a time: with three stacks at once a service took over
 *     120 s to start on a busy 2-core machine;
 *  2. the integration and unit tiers, three files at a time: an integration file mostly waits on Kafka (group joins,
 *     commits, its own time-outs), so a third worker shortens the tier on 2 cores (7 min 45 s against about 10 min)
 *     where it would only slow the stacks of the first run.
 * Both runs go to the end; the exit code is the first failing run's. Arguments after `--` (`npm test -- router`)
 * go to a single jest run over every tier instead, as `jest` alone would take them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import globalSetup from '../test/global-setup';
import globalTeardown from '../test/global-teardown';

const JEST = require.resolve('jest/bin/jest');

/** Each run: its projects and how many files at a time. */
const RUNS: ReadonlyArray<{ projects: string[]; workers: number }> = [
  { projects: ['scale', 'faults', 'e2e'], workers: 2 },
  { projects: ['int', 'unit'], workers: 3 },
];

let stopping: NodeJS.Signals | undefined;
let running: ChildProcess | undefined;

function jest(args: string[]): Promise<number> {
  return new Promise((resolvePromise) => {
    // A process group of its own, so that a signal reaches jest's workers too (sent to jest alone it leaves them
    // running): this process passes it on, waits for jest, then stops the broker.
    const child = spawn(process.execPath, [JEST, ...args], { stdio: 'inherit', env: process.env, detached: true });
    running = child;
    child.on('error', (err) => {
      process.stderr.write(`cannot run jest: ${err.message}\n`);
      resolvePromise(1);
    });
    child.on('exit', (code, signal) => {
      running = undefined;
      resolvePromise(code ?? (signal ? 1 : 0));
    });
  });
}

async function main(): Promise<number> {
  // Ctrl-C, or a signal sent to this process alone (a CI's time-out), goes on to jest's process group.
  for (const s of ['SIGINT', 'SIGTERM'] as const) {
    process.on(s, () => {
      stopping = s;
      if (running?.pid === undefined) return;
      try {
        process.kill(-running.pid, s);
      } catch {
        // already gone
      }
    });
  }
  const extra = process.argv.slice(2);
  await globalSetup();
  try {
    // The extra arguments first: --selectProjects would take a path after it for a project's name.
    if (extra.length > 0) {
      const code = await jest([...extra, '--selectProjects', ...RUNS.flatMap((r) => r.projects)]);
      return stopping ? 130 : code;
    }
    let exit = 0;
    for (const run of RUNS) {
      if (stopping) break;
      process.stderr.write(`\n[test] ${run.projects.join(', ')}: ${run.workers} files at a time\n`);
      const code = await jest(['--selectProjects', ...run.projects, '--maxWorkers', String(run.workers)]);
      if (exit === 0) exit = code;
    }
    return stopping ? 130 : exit;
  } finally {
    await globalTeardown();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
