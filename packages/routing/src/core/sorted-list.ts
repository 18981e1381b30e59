/** Entries per chunk: an insertion or removal in the middle moves at most about this many. */
const CHUNK = 512;

/**
 * An array kept in order by a comparator, held as a list of sorted chunks: insertion at the end (the usual
 * case, inputs arrive in time order) is O(1), lookups are binary searches, and an insertion or removal
 * elsewhere moves one chunk's entries, not the whole list's, so the indexes over it stay cheap however many
 * entries it holds.
 */
export class SortedList<T> {
  private readonly chunks: T[][] = [];
  private count = 0;

  constructor(private readonly cmp: (a: T, b: T) => number) {}

  get size(): number {
    return this.count;
  }

  at(i: number): T | undefined {
    let k = i < 0 ? this.count + i : i;
    if (k < 0 || k >= this.count) return undefined;
    if (k < this.count / 2) {
      for (const chunk of this.chunks) {
        if (k < chunk.length) return chunk[k];
        k -= chunk.length;
      }
      return undefined;
    }
    k = this.count - 1 - k;
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const chunk = this.chunks[c]!;
      if (k < chunk.length) return chunk[chunk.length - 1 - k];
      k -= chunk.length;
    }
    return undefined;
  }

  /** The first index whose entry satisfies `pred`, which must be false for a prefix and true after it. */
  firstIndex(pred: (x: T) => boolean): number {
    const c = this.firstChunk(pred);
    if (c === this.chunks.length) return this.count;
    return this.offsetOf(c) + firstIn(this.chunks[c]!, pred);
  }

  insert(x: T): void {
    const last = this.chunks[this.chunks.length - 1];
    if (last === undefined || this.cmp(last[last.length - 1]!, x) <= 0) {
      if (last === undefined || last.length >= CHUNK) this.chunks.push([x]);
      else last.push(x);
      this.count += 1;
      return;
    }
    const c = this.firstChunk((y) => this.cmp(y, x) > 0);
    const chunk = this.chunks[c]!;
    chunk.splice(
      firstIn(chunk, (y) => this.cmp(y, x) > 0),
      0,
      x,
    );
    this.count += 1;
    if (chunk.length >= 2 * CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(CHUNK));
  }

  /** Removes an entry comparing equal to `x`; false when there is none. */
  remove(x: T): boolean {
    const atOrAfter = (y: T) => this.cmp(y, x) >= 0;
    const c = this.firstChunk(atOrAfter);
    const chunk = this.chunks[c];
    if (chunk === undefined) return false;
    const i = firstIn(chunk, atOrAfter);
    if (this.cmp(chunk[i]!, x) !== 0) return false;
    chunk.splice(i, 1);
    this.count -= 1;
    if (chunk.length === 0) this.chunks.splice(c, 1);
    return true;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const chunk of this.chunks) yield* chunk;
  }

  /** The first chunk whose last entry satisfies `pred` (the one holding the first entry that does), or the chunk count. */
  private firstChunk(pred: (x: T) => boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid]!;
      if (pred(chunk[chunk.length - 1]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** How many entries the chunks before chunk `c` hold, counted from the nearer end (lookups are mostly near the newest). */
  private offsetOf(c: number): number {
    if (c < this.chunks.length / 2) {
      let n = 0;
      for (let i = 0; i < c; i++) n += this.chunks[i]!.length;
      return n;
    }
    let n = this.count;
    for (let i = c; i < this.chunks.length; i++) n -= this.chunks[i]!.length;
    return n;
  }
}

function firstIn<T>(items: readonly T[], pred: (x: T) => boolean): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(items[mid]!)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
