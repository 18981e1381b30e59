/** What `npm test` runs (scripts/test-plan.ts): the jest runs' arguments, checked against jest itself, and its signals. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { running } from '../test/support/proc';
import { jestRuns, RUNS } from './test-plan';

const ROOT = join(__dirname, '..');
const JEST = require.resolve('jest/bin/jest');

function run(command: string, args: string[], onOut?: (text: string) => void): { pid: number; done: Promise<{ code: number | null; out: string }> } {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    onOut?.(out);
  });
  child.stderr.on('data', () => undefined);
  return { pid: child.pid!, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, out }))) };
}

/** The test files jest would run with these arguments. */
async function listTests(args: string[]): Promise<string[]> {
  const { code, out } = await run(process.execPath, [JEST, ...args, '--listTests']).done;
  expect(code).toBe(0);
  // Besides the paths, jest prints which projects it runs.
  return out
    .split('\n')
    .filter((line) => line.startsWith(`${ROOT}/`))
    .map((p) => p.slice(ROOT.length + 1))
    .sort();
}

test('with no arguments: the whole-stack tiers two files at a time, then the integration and unit tiers three at a time', () => {
  expect(jestRuns([])).toEqual([
    { label: 'scale, faults, e2e: 2 files at a time', args: ['--selectProjects', 'scale', 'faults', 'e2e', '--maxWorkers', '2'] },
    { label: 'int, unit: 3 files at a time', args: ['--selectProjects', 'int', 'unit', '--maxWorkers', '3'] },
  ]);
});

test("the two runs hold every test file of jest's configuration, each once", async () => {
  const [all, ...perRun] = await Promise.all([listTests([]), ...jestRuns([]).map((r) => listTests(r.args))]);
  expect(all.length).toBeGreaterThan(300);
  expect([...perRun.flat()].sort()).toEqual(all);
  expect(all).toContain('scripts/test-plan.test.ts');
  expect(perRun[1]).toContain('scripts/test-plan.test.ts');
  expect(perRun[0]!.some((p) => p.endsWith('.faults.test.ts'))).toBe(true);
  expect(RUNS.flatMap((r) => r.projects).sort()).toEqual(['e2e', 'faults', 'int', 'scale', 'unit']);
});

test("arguments after `npm test --` go before --selectProjects, so jest takes a path as a path and not as a project's name", async () => {
  const runs = jestRuns(['scripts/test-plan']);
  expect(runs).toHaveLength(1);
  expect(runs[0]!.label).toBeUndefined();
  expect(await listTests(runs[0]!.args)).toEqual(['scripts/test-plan.test.ts']);
});

const FIXTURE = ['--import', 'tsx', join(__dirname, 'test-plan-fixture.ts')];

test('every run goes to the end; the exit code is the first failing one', async () => {
  const { code, out } = await run(process.execPath, [...FIXTURE, 'codes', '0', '3', '5']).done;
  expect(out.match(/^run \d/gm)).toEqual(['run 1', 'run 2', 'run 3']);
  expect(code).toBe(3);
});

test("a SIGTERM to the runner alone stops the run's whole process group, its workers too, starts no other run and exits 130", async () => {
  let worker: number | undefined;
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  const fixture = run(process.execPath, [...FIXTURE, 'signal'], (out) => {
    const m = /^run 1 worker (\d+)$/m.exec(out);
    if (m && worker === undefined) {
      worker = Number(m[1]);
      started();
    }
  });
  // A fixture that ends before its first run started fails here, with its exit code, not at the test's time-out.
  const early = await Promise.race([ready.then(() => null), fixture.done]);
  expect(early).toBeNull();
  expect(running(worker!)).toBe(true);
  process.kill(fixture.pid, 'SIGTERM');
  const { code, out } = await fixture.done;
  expect(code).toBe(130);
  expect(out).not.toMatch(/^run 2/m);
  for (let i = 0; i < 50 && running(worker!); i++) await new Promise((r) => setTimeout(r, 100));
  expect(running(worker!)).toBe(false);
}, 30_000);
