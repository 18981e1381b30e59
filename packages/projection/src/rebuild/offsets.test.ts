/** Which side is ahead, partition by partition: what decides whether a rebuild may be compared and swapped in. */
import { compareOffsets, offsetKey } from './offsets';

const map = (entries: Array<[string, number, string]>) => new Map(entries.map(([t, p, o]) => [offsetKey(t, p), o]));

describe('compareOffsets', () => {
  it('equal positions, including partitions neither side has read, are no difference', () => {
    expect(compareOffsets(map([['a', 0, '5']]), map([['a', 0, '5']]))).toEqual({ liveAhead: [], liveBehind: [] });
  });

  it('names the partitions where the live projection is ahead (catch up) or behind (cannot compare yet)', () => {
    const live = map([['a', 0, '7'], ['a', 1, '3'], ['b', 0, '2']]);
    const rebuilt = map([['a', 0, '5'], ['a', 1, '4'], ['c', 0, '1']]);

    expect(compareOffsets(live, rebuilt)).toEqual({
      liveAhead: [
        { topic: 'a', partition: 0, live: '7', rebuilt: '5' },
        { topic: 'b', partition: 0, live: '2', rebuilt: null },
      ],
      liveBehind: [
        { topic: 'a', partition: 1, live: '3', rebuilt: '4' },
        { topic: 'c', partition: 0, live: null, rebuilt: '1' },
      ],
    });
  });

  it('compares 64-bit offsets exactly', () => {
    const big = (2n ** 62n).toString();
    const next = (2n ** 62n + 1n).toString();
    expect(compareOffsets(map([['a', 0, next]]), map([['a', 0, big]])).liveAhead).toHaveLength(1);
  });
});
