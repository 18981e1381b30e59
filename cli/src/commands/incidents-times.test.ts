/** The sender's times in `alertbus incidents`: shown when they differ from alertbus's by more than a few seconds. */
import { duration, endedShown, senderTimeLines, startedShown } from './incidents-times';

const OPENED = '2026-12-06T02:20:00.000Z';

describe("the sender's times in the CLI", () => {
  it.each([
    [null, ''],
    [OPENED, ''],
    ['2026-12-06T02:19:56.000Z', ''],
    ['2026-12-06T02:00:00.000Z', '2026-12-06T02:00:00.000Z'],
  ])('started_at %s beside opened_at → %j', (started, shown) => {
    expect(startedShown({ opened_at: OPENED, started_at: started })).toBe(shown);
  });

  it('show prints when it started and ended as the sender says, and by how much alertbus was late', () => {
    const i = { opened_at: OPENED, started_at: '2026-12-06T02:00:00.000Z', resolved_at: '2026-12-06T02:21:00.000Z', ended_at: '2026-12-06T02:15:00.000Z' };
    expect(senderTimeLines(i)).toEqual([
      '  started 2026-12-06T02:00:00.000Z as the sender says (20m before alertbus opened it)',
      '  ended 2026-12-06T02:15:00.000Z as the sender says (6m before alertbus resolved it)',
    ]);
    expect(senderTimeLines({ opened_at: OPENED, started_at: null, resolved_at: null, ended_at: null })).toEqual([]);
    expect(endedShown({ opened_at: OPENED, resolved_at: '2026-12-06T02:21:00.000Z', ended_at: null })).toBe('');
  });

  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [20 * 60_000, '20m'],
    [3_600_000 + 90_000, '1h 1m 30s'],
  ])('%i ms is %s', (ms, text) => {
    expect(duration(OPENED, new Date(Date.parse(OPENED) + ms).toISOString())).toBe(text);
  });
});
