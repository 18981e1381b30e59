/**
 * The bound on the old space's growth (heap.ts), in a process of its own: the same work, promoting mostly garbage
 * beside a live set, with and without it. Sizes, not times.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Holds ~30 MB live, then promotes batches that die soon after; prints the largest old space and the live heap. */
const WORK = `
  const v8 = require('node:v8');
  if (process.env.BOUND === '1') require(${JSON.stringify(join(__dirname, 'heap.ts'))}).boundOldSpaceGrowth();
  const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
  const live = [];
  for (let i = 0; i < 200000; i++) live.push({ i, s: 'x' + i, a: [i, i + 1] });
  const held = [];
  let largest = 0;
  for (let k = 0; k < 400; k++) {
    const batch = [];
    for (let i = 0; i < 10000; i++) batch.push({ k, i, s: 'y' + i, a: [i] });
    held.push(batch);
    if (held.length > 8) held.shift();
    largest = Math.max(largest, oldSpace().space_size);
  }
  held.length = 0;
  global.gc();
  process.stdout.write(JSON.stringify({ largest, live: oldSpace().space_used_size, n: live.length }));
`;

function run(bound: boolean): { largest: number; live: number } {
  const out = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', WORK], {
    env: { ...process.env, BOUND: bound ? '1' : '0' },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout) as { largest: number; live: number };
}

describe('the old space bound of the history process', () => {
  it('keeps the old space within a few times the live heap, where V8 alone lets it grow far beyond', () => {
    const free = run(false);
    const bounded = run(true);

    expect(bounded.largest / bounded.live).toBeLessThan(4);
    expect(free.largest / free.live).toBeGreaterThan(4);
  }, 60_000);
});
