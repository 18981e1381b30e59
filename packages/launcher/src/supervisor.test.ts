/** The back-off between restarts of a crashed process: 1 s doubling to 30 s by default, never beyond the cap. */
import { restartDelay, RESTART_INITIAL_MS, RESTART_MAX_MS } from './supervisor';

describe('restartDelay', () => {
  it('starts at 1 s and doubles with each crash in a row, up to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((a) => restartDelay(a))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(RESTART_INITIAL_MS).toBe(1_000);
    expect(RESTART_MAX_MS).toBe(30_000);
  });

  it('stays at the cap for a process that crashes for days, never Infinity or NaN', () => {
    expect(restartDelay(10_000)).toBe(30_000);
    expect(restartDelay(Number.MAX_SAFE_INTEGER, { initialMs: 250, maxMs: 5_000 })).toBe(5_000);
  });

  it('takes the policy given, and an attempt below 1 as the first', () => {
    expect([1, 2, 3, 4].map((a) => restartDelay(a, { initialMs: 100, maxMs: 500 }))).toEqual([100, 200, 400, 500]);
    expect(restartDelay(0)).toBe(1_000);
  });
});
