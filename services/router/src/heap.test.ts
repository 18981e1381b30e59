import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * In a process of its own (V8's flags are the whole process's), with the router's young generation (ROUTER_PROCESS in
 * the launcher's services.ts) and the router's heap settings: 80 MB kept alive, then 1.6 GB allocated and dropped at
 * once, 1 MB at a time (large objects, counted in the old generation). The largest heap seen, in MB.
 */
function largestHeapMb(): number {
  const script = `
    const v8 = require('node:v8');
    require(${JSON.stringify(join(__dirname, 'heap.ts'))}).keepShortLivedObjectsYoung();
    const keep = [];
    for (let i = 0; i < 80; i++) keep.push(new Array(128 * 1024).fill(i));
    let max = 0;
    for (let i = 0; i < 1600; i++) {
      const dropped = new Array(128 * 1024).fill(i);
      max = Math.max(max, v8.getHeapStatistics().total_heap_size + 0 * dropped.length);
    }
    process.stdout.write(String(Math.round(max / 1048576) + 0 * keep.length));
  `;
  return Number(execFileSync(process.execPath, ['--max-semi-space-size=8', '--import', 'tsx', '-e', script], { encoding: 'utf8' }));
}

describe("the router's heap settings", () => {
  it('keep the old generation within half again of what a full collection left alive, plus the young generation', () => {
    // Without them V8 let this heap grow to 306–332 MB before collecting (up to 4× what survived); with them, 170–172.
    expect(largestHeapMb()).toBeLessThan(240);
  });
});
