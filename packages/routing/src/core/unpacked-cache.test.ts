import { UnpackedCache } from './unpacked-cache';

describe('UnpackedCache', () => {
  it('gives back a state only for the packed form it was unpacked from', () => {
    const cache = new UnpackedCache<{ n: number }>(4, 4);
    const state = { n: 1 };
    cache.add('a', 'packed-1', state, true);
    expect(cache.get('a', 'packed-1')).toBe(state);
    expect(cache.get('a', 'packed-2')).toBeUndefined();
    expect(cache.get('b', 'packed-1')).toBeUndefined();
  });

  it('keeps states read again past a stream of states read once', () => {
    const cache = new UnpackedCache<{ n: number }>(2, 2);
    const oldest = { n: 0 };
    cache.add('oldest', 'p0', oldest, true);
    expect(cache.get('oldest', 'p0')).toBe(oldest); // read again: kept long
    for (let i = 1; i <= 50; i++) {
      cache.add(`a${i}`, `p${i}`, { n: i }, false);
      cache.get(`a${i}`, `p${i}`);
    }
    expect(cache.get('oldest', 'p0')).toBe(oldest);
  });

  it('lets a state read once leave after the short part fills, and a just-set one needs two reads to stay', () => {
    const cache = new UnpackedCache<{ n: number }>(2, 2);
    cache.add('once', 'p', { n: 1 }, false);
    expect(cache.get('once', 'p')).toEqual({ n: 1 });
    cache.add('x', 'px', { n: 2 }, false);
    cache.add('y', 'py', { n: 3 }, false);
    expect(cache.get('once', 'p')).toBeUndefined();
  });

  it('forgets a deleted key in either part', () => {
    const cache = new UnpackedCache<{ n: number }>(2, 2);
    cache.add('k', 'p', { n: 1 }, true);
    cache.get('k', 'p');
    cache.delete('k');
    expect(cache.get('k', 'p')).toBeUndefined();
    cache.add('r', 'p', { n: 2 }, false);
    cache.delete('r');
    expect(cache.get('r', 'p')).toBeUndefined();
  });
});
