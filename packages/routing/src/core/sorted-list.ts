/**
 * An array kept in order by a comparator: insertion at the end (the usual case, inputs arrive in time order)
 * is O(1), lookups are binary searches, so the indexes over it answer in O(log n) however many entries it holds.
 */
export class SortedList<T> {
  private readonly items: T[] = [];

  constructor(private readonly cmp: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  at(i: number): T | undefined {
    return i < 0 ? this.items[this.items.length + i] : this.items[i];
  }

  /** The first index whose entry satisfies `pred`, which must be false for a prefix and true after it. */
  firstIndex(pred: (x: T) => boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.items[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  insert(x: T): void {
    const last = this.items[this.items.length - 1];
    if (last === undefined || this.cmp(last, x) <= 0) {
      this.items.push(x);
      return;
    }
    this.items.splice(
      this.firstIndex((y) => this.cmp(y, x) > 0),
      0,
      x,
    );
  }

  /** Removes an entry comparing equal to `x`; false when there is none. */
  remove(x: T): boolean {
    const i = this.firstIndex((y) => this.cmp(y, x) >= 0);
    if (i >= this.items.length || this.cmp(this.items[i]!, x) !== 0) return false;
    this.items.splice(i, 1);
    return true;
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.items[Symbol.iterator]();
  }
}
