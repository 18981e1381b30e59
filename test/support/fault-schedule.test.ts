import { killSchedule, seededRandom } from './fault-schedule';

describe('fault schedule', () => {
  test('a seed gives the same sequence every time, and another seed another one', () => {
    const take = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    expect(take(42).every((x) => x >= 0 && x < 1)).toBe(true);
  });

  test('every service is killed the asked number of times, after pauses within the bound, replayably', () => {
    const opts = { seed: 7, services: ['ingest', 'router'] as const, times: 10, maxPauseMs: 6_000 };
    const schedule = killSchedule(opts);
    expect(Object.keys(schedule)).toEqual(['ingest', 'router']);
    for (const pauses of Object.values(schedule)) {
      expect(pauses).toHaveLength(10);
      expect(pauses.every((p) => Number.isInteger(p) && p >= 0 && p < 6_000)).toBe(true);
    }
    expect(schedule.ingest).not.toEqual(schedule.router);
    expect(killSchedule(opts)).toEqual(schedule);
  });
});
