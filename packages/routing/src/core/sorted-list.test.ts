import { SortedList } from './sorted-list';

/** The list against a plain sorted array, through enough insertions and removals to split and empty chunks. */
describe('SortedList', () => {
  it('answers as a plain sorted array does, through insertions and removals anywhere', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n;
    const byValue = (a: number, b: number) => a - b;
    const list = new SortedList(byValue);
    const plain: number[] = [];
    for (let step = 0; step < 6_000; step++) {
      const x = step < 3_000 && rand(4) === 0 ? step : rand(5_000);
      if (rand(3) === 0 && plain.length > 0) {
        const victim = plain[rand(plain.length)]!;
        expect(list.remove(victim)).toBe(true);
        plain.splice(plain.indexOf(victim), 1);
      } else {
        list.insert(x);
        plain.push(x);
        plain.sort(byValue);
      }
      if (step % 500 === 0) {
        const bound = rand(5_000);
        expect(list.firstIndex((y) => y > bound)).toBe(plain.filter((y) => y <= bound).length);
      }
    }
    expect(list.size).toBe(plain.length);
    expect([...list]).toEqual(plain);
    expect([0, 1, 700, -1, -2, -700].map((i) => list.at(i))).toEqual([0, 1, 700, -1, -2, -700].map((i) => plain.at(i)));
    expect(list.at(plain.length)).toBeUndefined();
    expect(list.remove(-5)).toBe(false);
    expect(list.firstIndex(() => true)).toBe(0);
    expect(list.firstIndex(() => false)).toBe(plain.length);
  });

  it('keeps ids of any 32-bit size in the order of what they stand for', () => {
    // As the state index uses it: record ids, ordered by a number kept elsewhere, ties by id.
    const ids = [2_147_483_647, 0, 70_000, 1_000_000_000, 5];
    const at = new Map(ids.map((id, i) => [id, i % 2]));
    const list = new SortedList((a: number, b: number) => at.get(a)! - at.get(b)! || a - b);
    for (const id of ids) list.insert(id);
    expect([...list]).toEqual([5, 70_000, 2_147_483_647, 0, 1_000_000_000]);
    expect(list.remove(70_000)).toBe(true);
    expect([list.at(0), list.at(-1), list.size]).toEqual([5, 1_000_000_000, 4]);
  });
});
