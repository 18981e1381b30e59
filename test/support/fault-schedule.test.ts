import { killSchedule } from './fault-schedule';

describe('fault schedule', () => {
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
