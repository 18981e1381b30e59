/** Entries per chunk: an insertion or removal in the middle moves at most about this many. */
const CHUNK = 512;
/** A new chunk's room; it doubles up to CHUNK, so a list of a few entries (an inhibit bucket) stays small. */
const FIRST_ROOM = 4;

/** A run of entries in order: the first `n` of `ids`. */
interface Chunk {
  ids: Int32Array;
  n: number;
}

/**
 * An array of 32-bit integers (record ids) kept in order by a comparator, held as a list of sorted chunks: insertion
 * at the end (the usual case, inputs arrive in time order) is O(1), lookups are binary searches, and an insertion or
 * removal elsewhere moves one chunk's entries, not the whole list's, so the indexes over it stay cheap however many
 * entries it holds. Chunks are `Int32Array`s: 4 bytes an entry, where an array of small integers takes 8.
 */
export class SortedList<T extends number> {
  private readonly chunks: Chunk[] = [];
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
        if (k < chunk.n) return chunk.ids[k] as T;
        k -= chunk.n;
      }
      return undefined;
    }
    k = this.count - 1 - k;
    for (let c = this.chunks.length - 1; c >= 0; c--) {
      const chunk = this.chunks[c]!;
      if (k < chunk.n) return chunk.ids[chunk.n - 1 - k] as T;
      k -= chunk.n;
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
    if (last === undefined || this.cmp(last.ids[last.n - 1] as T, x) <= 0) {
      if (last === undefined || last.n >= CHUNK) this.chunks.push({ ids: new Int32Array(FIRST_ROOM), n: 0 });
      this.insertAt(this.chunks.length - 1, this.chunks[this.chunks.length - 1]!.n, x);
      return;
    }
    const c = this.firstChunkBy(x, true);
    this.insertAt(c, firstInBy(this.chunks[c]!, x, true, this.cmp), x);
  }

  /** Removes an entry comparing equal to `x`; false when there is none. */
  remove(x: T): boolean {
    const c = this.firstChunkBy(x, false);
    const chunk = this.chunks[c];
    if (chunk === undefined) return false;
    const i = firstInBy(chunk, x, false, this.cmp);
    if (this.cmp(chunk.ids[i] as T, x) !== 0) return false;
    chunk.ids.copyWithin(i, i + 1, chunk.n);
    chunk.n -= 1;
    this.count -= 1;
    if (chunk.n === 0) this.chunks.splice(c, 1);
    return true;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const chunk of this.chunks) for (let i = 0; i < chunk.n; i++) yield chunk.ids[i] as T;
  }

  /** Puts `x` at position `i` of chunk `c`: a full chunk grows, up to CHUNK entries, then splits in two halves. */
  private insertAt(c: number, i: number, x: T): void {
    let chunk = this.chunks[c]!;
    if (chunk.n === chunk.ids.length) {
      if (chunk.n < CHUNK) {
        const ids = new Int32Array(Math.min(2 * chunk.n, CHUNK));
        ids.set(chunk.ids);
        chunk.ids = ids;
      } else {
        const half = chunk.n >>> 1;
        const upper: Chunk = { ids: new Int32Array(CHUNK), n: chunk.n - half };
        upper.ids.set(chunk.ids.subarray(half, chunk.n));
        chunk.n = half;
        this.chunks.splice(c + 1, 0, upper);
        if (i > half) {
          chunk = upper;
          i -= half;
        }
      }
    }
    chunk.ids.copyWithin(i + 1, i, chunk.n);
    chunk.ids[i] = x;
    chunk.n += 1;
    this.count += 1;
  }

  /** The first chunk whose last entry satisfies `pred` (the one holding the first entry that does), or the chunk count. */
  private firstChunk(pred: (x: T) => boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid]!;
      if (pred(chunk.ids[chunk.n - 1] as T)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * firstChunk for the entries after `x` (`after`) or at or after it, by `cmp` itself: insert and remove ask
   * this of every list an incident is in, and a predicate made for each call cost more than the search.
   */
  private firstChunkBy(x: T, after: boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid]!;
      const d = this.cmp(chunk.ids[chunk.n - 1] as T, x);
      if (after ? d > 0 : d >= 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** How many entries the chunks before chunk `c` hold, counted from the nearer end (lookups are mostly near the newest). */
  private offsetOf(c: number): number {
    if (c < this.chunks.length / 2) {
      let n = 0;
      for (let i = 0; i < c; i++) n += this.chunks[i]!.n;
      return n;
    }
    let n = this.count;
    for (let i = c; i < this.chunks.length; i++) n -= this.chunks[i]!.n;
    return n;
  }
}

function firstIn<T extends number>(chunk: Chunk, pred: (x: T) => boolean): number {
  let lo = 0;
  let hi = chunk.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pred(chunk.ids[mid] as T)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** firstIn for the entries after `x` (`after`) or at or after it, by `cmp`. */
function firstInBy<T extends number>(chunk: Chunk, x: T, after: boolean, cmp: (a: T, b: T) => number): number {
  let lo = 0;
  let hi = chunk.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const d = cmp(chunk.ids[mid] as T, x);
    if (after ? d > 0 : d >= 0) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
