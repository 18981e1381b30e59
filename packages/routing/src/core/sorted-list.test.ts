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
});
