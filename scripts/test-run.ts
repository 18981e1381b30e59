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
import { spawn } from 'node:child_process';
import globalSetup from '../test/global-setup';
import globalTeardown from '../test/global-teardown';

const JEST = require.resolve('jest/bin/jest');

/** Each run: its projects and how many files at a time. */
const RUNS: ReadonlyArray<{ projects: string[]; workers: number }> = [
  { projects: ['scale', 'faults', 'e2e'], workers: 2 },
  { projects: ['int', 'unit'], workers: 3 },
];

let stopping: NodeJS.Signals | undefined;

function jest(args: string[]): Promise<number> {
  return new Promise((resolvePromise) => {
    // Same process group: Ctrl-C reaches jest too; this process waits for it, then stops the broker.
    const child = spawn(process.execPath, [JEST, ...args], { stdio: 'inherit', env: process.env });
    child.on('error', (err) => {
      process.stderr.write(`cannot run jest: ${err.message}\n`);
      resolvePromise(1);
    });
    child.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<number> {
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => (stopping = s));
  const extra = process.argv.slice(2);
  await globalSetup();
  try {
    // The extra arguments first: --selectProjects would take a path after it for a project's name.
    if (extra.length > 0) return await jest([...extra, '--selectProjects', ...RUNS.flatMap((r) => r.projects)]);
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
