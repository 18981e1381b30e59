import { PackedStore, records } from './packed-store';

/** A small deterministic generator, so a failure repeats. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
}

/** Keys and states of every kind of text a state may hold: one-byte, wider, emoji, a lone surrogate. */
const TEXTS = ['', 'a', 'é', '€', '🔥', '\ud800', 'ÿ\u0000', 'slack:T1:C1:1700000000.000100', 'x'.repeat(300)];

function expectSame(store: PackedStore, model: Map<string, string>): void {
  expect(store.size).toBe(model.size);
  expect([...store]).toEqual([...model]);
  expect([...store.keys()]).toEqual([...model.keys()]);
  expect([...store.values()]).toEqual([...model.values()]);
  const wrong = [...model].filter(([k, v]) => !store.has(k) || store.get(k) !== v);
  expect(wrong).toEqual([]);
}

describe('PackedStore', () => {
  it('sets, gets, overwrites and deletes as a Map does, keeping its order', () => {
    const store = new PackedStore();
    const model = new Map<string, string>();
    store.set('a', 'one').set('b', 'two').set('c', 'three');
    model.set('a', 'one').set('b', 'two').set('c', 'three');
    expectSame(store, model);
    // An overwrite keeps the key's place; a delete then set puts it last.
    store.set('a', 'uno');
    model.set('a', 'uno');
    expect(store.delete('b')).toBe(true);
    model.delete('b');
    expect(store.delete('b')).toBe(false);
    store.set('b', 'dos');
    model.set('b', 'dos');
    expectSame(store, model);
    expect(store.get('zz')).toBeUndefined();
    expect(store.has('zz')).toBe(false);
    expect(store.id('zz')).toBe(-1);
    expect(records.key(store.id('a'))).toBe('a');
    expect(records.state(store.id('a'))).toBe('uno');
  });

  it('holds keys and states of multi-byte text exactly, and tells keys apart that differ only there', () => {
    const store = new PackedStore();
    const model = new Map<string, string>();
    for (const k of TEXTS) for (const v of TEXTS) {
      store.set(`${k}|${v}`, `${v}${k}`);
      model.set(`${k}|${v}`, `${v}${k}`);
    }
    expectSame(store, model);
    store.set('é', 'narrow key, wide state €');
    store.set('\u00e9', 'the same key');
    expect(store.get('é')).toBe('the same key');
    expect(store.get('e\u0301')).toBeUndefined();
  });

  it('agrees with a Map over many random operations on many keys (growth, shrinking, reuse of freed space)', () => {
    const store = new PackedStore();
    const model = new Map<string, string>();
    const r = random(11);
    for (let i = 0; i < 30_000; i++) {
      const k = `alertmanager:${r(20_000)}${TEXTS[r(TEXTS.length)]}`;
      if (r(3) < 2) {
        const v = `${TEXTS[r(TEXTS.length)]}${String.fromCharCode(r(400))}${'v'.repeat(r(400))}`;
        store.set(k, v);
        model.set(k, v);
      } else expect(store.delete(k)).toBe(model.delete(k));
      // Mostly emptied halfway, so the tables shrink and grow again.
      if (i === 15_000) for (const key of [...model.keys()].slice(0, model.size - 100)) expect(store.delete(key)).toBe(model.delete(key));
    }
    expectSame(store, model);
  });

  it('holds a hundred thousand keys', () => {
    const store = new PackedStore();
    for (let i = 0; i < 100_000; i++) store.set(`alertmanager:bench${i}`, `state of ${i}`);
    expect(store.size).toBe(100_000);
    const wrong: number[] = [];
    for (let i = 0; i < 100_000; i += 1) if (store.get(`alertmanager:bench${i}`) !== `state of ${i}`) wrong.push(i);
    expect(wrong).toEqual([]);
    expect([...store.keys()]).toEqual(Array.from({ length: 100_000 }, (_, i) => `alertmanager:bench${i}`));
  });

  it('shares one record between stores holding the same key and state, and gives it back when none holds it', () => {
    const before = records.records;
    const a = new PackedStore();
    const b = new PackedStore();
    a.set('k1', 'state');
    b.set('k1', 'state');
    expect(a.id('k1')).toBe(b.id('k1'));
    expect(records.records).toBe(before + 1);
    // Another state of the key, or the same state under another key, is another record.
    b.set('k1', 'other');
    b.set('k2', 'state');
    expect(records.records).toBe(before + 3);
    expect(a.get('k1')).toBe('state');
    a.delete('k1');
    expect(records.records).toBe(before + 2);
    b.clear();
    expect(b.size).toBe(0);
    expect([...b]).toEqual([]);
    expect(records.records).toBe(before);
  });

  it('keeps every live state intact while the bytes of released ones are reclaimed', () => {
    const store = new PackedStore();
    const model = new Map<string, string>();
    // Megabytes written and released, so the arena compacts (in place and into a smaller buffer) more than once.
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 2_000; i++) {
        const v = `${round}:${i}:${'z'.repeat(1_000)}${i % 5 === 0 ? '€' : ''}`;
        store.set(`key${i}`, v);
        model.set(`key${i}`, v);
      }
      for (let i = round % 2; i < 2_000; i += 2) {
        store.delete(`key${i}`);
        model.delete(`key${i}`);
      }
      expectSame(store, model);
    }
    store.clear();
    for (let i = 0; i < 2_000; i++) store.set(`after${i}`, `small ${i}`);
    // Released megabytes do not stay held: at most a megabyte, or half of what is held.
    expect(Math.min(records.released, 2 * records.released - records.size)).toBeLessThanOrEqual(1 << 20);
    expect(records.released).toBeLessThan(12 << 20);
    expect([...store.values()]).toEqual(Array.from({ length: 2_000 }, (_, i) => `small ${i}`));
  });

  it('orders records by key as strings compare', () => {
    const store = new PackedStore();
    const keys = ['b', 'a', 'ab', '', 'é', '€', '🔥', 'a\u0000', 'A', 'ÿ', '\ud800', 'zz'];
    for (const k of keys) store.set(k, 's');
    const ids = keys.map((k) => store.id(k));
    const byStore = [...ids].sort((x, y) => records.compareKeys(x, y)).map((id) => records.key(id));
    expect(byStore).toEqual([...keys].sort());
    for (const k of keys) expect(records.keyEquals(store.id(k), k)).toBe(true);
    expect(records.keyEquals(store.id('a'), 'ab')).toBe(false);
  });
});
