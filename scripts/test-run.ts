/**
 * The jest part of `npm test`: one Kafka broker (and, where no PostgreSQL answers, one embedded PostgreSQL) for the
 * whole run, and the tiers in two jest runs that share it (scripts/test-plan.ts says which and why):
 *  1. the whole-stack tiers (scale, faults, e2e), two files at a time;
 *  2. the integration and unit tiers, three files at a time.
 * Both runs go to the end; the exit code is the first failing run's. Arguments after `--` (`npm test -- router`)
 * go to a single jest run over every tier instead, as `jest` alone would take them. A signal stops the run in
 * progress (its whole process group), starts no other, stops the broker and exits 130.
 */
import globalSetup from '../test/global-setup';
import globalTeardown from '../test/global-teardown';
import { GroupRunner, jestRuns, runAll } from './test-plan';

const JEST = require.resolve('jest/bin/jest');

async function main(): Promise<number> {
  const runner = new GroupRunner();
  await globalSetup();
  try {
    return await runAll(runner, jestRuns(process.argv.slice(2)), process.execPath, [JEST]);
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
