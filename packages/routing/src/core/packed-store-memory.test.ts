import { PackedStore, records } from './packed-store';

/**
 * What the arena gives back after most of its records are released (a mass eviction past the retention), checked
 * against a Map over the same operations. A file of its own: the arena is one per process (per test file here), and
 * records other tests leave held would pin the ids these tests count on. States are a few hundred characters, not
 * the kilobyte of a real one: hashing a string runs many times slower inside jest's VM context than in a service.
 */

function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
}

function expectSame(store: PackedStore, model: Map<string, string>): void {
  expect(store.size).toBe(model.size);
  expect([...store]).toEqual([...model]);
  const wrong = [...model].filter(([k, v]) => store.get(k) !== v);
  expect(wrong).toEqual([]);
}

const KB = 1024;
const MB = 1024 * KB;
const stateOf = (i: number, round: number) => `${round}:${i}:${'s'.repeat(400 + (i % 50))}${i % 7 === 0 ? '€' : ''}`;

describe('the packed records after a mass release', () => {
  it('hands out the lowest free ids, so ids in use stay dense', () => {
    const store = new PackedStore();
    for (let i = 0; i < 5_000; i++) store.set(`k${i}`, `v${i}`);
    // Free ids at both ends; the new records take the low ones.
    for (let i = 0; i < 1_000; i++) store.delete(`k${i}`);
    for (let i = 4_000; i < 5_000; i++) store.delete(`k${i}`);
    for (let i = 0; i < 1_000; i++) store.set(`n${i}`, `w${i}`);
    const ids = [...store.ids()].sort((x, y) => x - y);
    expect(ids.length).toBe(4_000);
    expect(ids[ids.length - 1]).toBe(ids.length - 1);
    store.clear();
  });

  it('give back their buffer, per-id arrays and hash table, and stay equal to a Map through it', () => {
    const a = new PackedStore();
    const b = new PackedStore();
    const model = new Map<string, string>();
    const empty = records.footprint();
    const r = random(7);
    for (let round = 0; round < 2; round++) {
      // Fill: 8,000 keys, held by both stores (one record each), some replaced as decisions replace states.
      for (let i = 0; i < 8_000; i++) {
        const k = `alertmanager:${round}:${i}`;
        a.set(k, stateOf(i, round));
        b.set(k, stateOf(i, round));
        model.set(k, stateOf(i, round));
        if (r(4) === 0) {
          const j = r(i + 1);
          const kj = `alertmanager:${round}:${j}`;
          a.set(kj, stateOf(j, round + 10));
          b.set(kj, stateOf(j, round + 10));
          model.set(kj, stateOf(j, round + 10));
        }
      }
      if (round === 0) expectSame(a, model);
      const full = records.footprint();
      expect(full.ids).toBeGreaterThan(8_000 * 20);
      expect(full.live).toBeGreaterThan(8_000 * 400);
      expect(full.capacity).toBeGreaterThan(3 * MB);
      // Evict all but every 400th, in a random order.
      const keys = [...model.keys()];
      for (let i = keys.length - 1; i > 0; i--) {
        const j = r(i + 1);
        [keys[i], keys[j]] = [keys[j]!, keys[i]!];
      }
      const kept = keys.filter((k) => Number(k.split(':')[2]) % 400 === 0);
      for (const k of keys) {
        if (Number(k.split(':')[2]) % 400 === 0) continue;
        expect(a.delete(k)).toBe(true);
        expect(b.delete(k)).toBe(true);
        model.delete(k);
      }
      expectSame(a, model);
      expectSame(b, model);
      // The survivors' next states are new records, which take the lowest free ids: the arrays shrink to them.
      for (const k of kept) {
        a.set(k, `${model.get(k)!}+`);
        b.set(k, `${model.get(k)!}+`);
        model.set(k, `${model.get(k)!}+`);
      }
      expectSame(a, model);
      expectSame(b, model);
      const after = records.footprint();
      expect(records.records).toBe(model.size);
      expect(after.ids).toBeLessThanOrEqual(Math.max(empty.ids, 64 * KB));
      expect(after.table).toBeLessThanOrEqual(Math.max(empty.table, 4 * KB));
      // The buffer: the live bytes with room to grow, not the megabytes written before.
      expect(after.capacity).toBeLessThanOrEqual(Math.max(64 * KB, 3 * after.live, 1.5 * (after.live + MB)));
      expect(after.used - after.live).toBeLessThanOrEqual(Math.max(MB, after.live));
      expect(a.footprint).toBeLessThan(4 * KB);
    }
    a.clear();
    b.clear();
    expect(records.records).toBe(0);
    expect(records.footprint().ids).toBe(empty.ids);
  });

});
