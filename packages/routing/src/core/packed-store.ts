import type { PackedState } from './packed-state';

/**
 * Keys and their packed states held outside the V8 heap. A million open incidents as strings in maps cost the
 * heap about 400 bytes each (the packed string and its header, the key, the map entries, the index's entry
 * object), and every replaced state dies among the live ones in the old space. Here a record is a key and a
 * packed state as bytes in one growing buffer, found by number (its id), with a few numbers per id in typed
 * arrays; stores and the state index hold ids.
 *
 * Records are shared: one with the same key and state is found by its content and counted once more, so the
 * partition's store, the state index and the shared facts holding the same state hold one record between them.
 * The bytes of released records are reclaimed by moving the live ones down when they are half the buffer.
 */

/** FNV-1a over UTF-16 units, continued from `h`, as a 32-bit integer (what the arrays of hashes hold). */
function hashOf(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}
const FNV = 0x811c9dc5;
const isNarrow = (s: string) => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
};
type Numbers = Uint32Array | Int32Array | Uint8Array | Float64Array;

/** A copy of `a` with room for `n` numbers (zeros after `a`'s). */
export function grown<T extends Numbers>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** A copy of `a`'s first `n` numbers (or all of them, then zeros, when it has fewer). */
export function resized<T extends Numbers>(a: T, n: number): T {
  return n >= a.length ? grown(a, n) : (a.slice(0, n) as T);
}

/** The smallest power of two at least `n`. */
export const roundUp = (n: number): number => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));
const MIN_IDS = 1024;
const MIN_TABLE = 2048;

const KEY_WIDE = 1;
const STATE_WIDE = 2;

class Arena {
  private buf = Buffer.allocUnsafeSlow(1 << 16);
  /** Bytes used, and how many of those belong to released records. */
  private end = 0;
  private dead = 0;
  /** By id: where its bytes start, how many are the key's, how many in all, its holders, its key's hash, encodings. */
  private offset = new Uint32Array(1024);
  private keyBytes = new Uint32Array(1024);
  private bytes = new Uint32Array(1024);
  private refs = new Uint32Array(1024);
  private keyHashes = new Int32Array(1024);
  private wide = new Uint8Array(1024);
  /** Ids below this have been handed out; every id from it up is free. */
  private ids = 0;
  /**
   * Released ids below `ids`, lowest first (a binary min-heap, outside the heap too: after a million evictions, a
   * million of them). Lowest first keeps the ids in use dense at the bottom, so that after many records are released
   * the per-id arrays can be cut down to the highest id still in use. It may hold ids at or above `ids` after that
   * was lowered: they count as not there.
   */
  private free = new Int32Array(1024);
  private freed = 0;
  /**
   * Open addressing by the key's hash: id + 1, 0 empty, -1 a removed one. By the key alone, so that a holder that
   * keeps no table of its own (the state index) finds its record by key; a key has few records at a time (the
   * states its holders have not all replaced yet), each compared by content.
   */
  private table = new Int32Array(2048);
  private used = 0;
  private live = 0;

  get records(): number {
    return this.live;
  }

  /** The bytes held for records, live and released. */
  get size(): number {
    return this.end;
  }

  /** Of those, the released records' (not yet reclaimed). */
  get released(): number {
    return this.dead;
  }

  keyHash(id: number): number {
    return this.keyHashes[id]!;
  }

  /** The first record with key `key` that `held` accepts (the caller's own, among those other holders keep), or -1. */
  find(key: string, held: (id: number) => boolean, keyHash: number = hashOf(key, FNV)): number {
    const mask = this.table.length - 1;
    for (let slot = keyHash & mask; ; slot = (slot + 1) & mask) {
      const v = this.table[slot]!;
      if (v === 0) return -1;
      if (v < 0) continue;
      const id = v - 1;
      if (this.keyHashes[id] === keyHash && held(id) && this.keyEquals(id, key)) return id;
    }
  }

  /** The id of the record (key, state), made or found; the caller holds it until it calls `release`. */
  retain(key: string, state: PackedState, keyHash: number = hashOf(key, FNV)): number {
    const mask = this.table.length - 1;
    let free = -1;
    for (let slot = keyHash & mask; ; slot = (slot + 1) & mask) {
      const v = this.table[slot]!;
      if (v === 0) {
        if (free < 0) free = slot;
        break;
      }
      if (v < 0) {
        if (free < 0) free = slot;
        continue;
      }
      const id = v - 1;
      if (this.keyHashes[id] === keyHash && this.keyEquals(id, key) && this.stateEquals(id, state)) {
        this.refs[id] += 1;
        return id;
      }
    }
    const id = this.add(key, state, keyHash);
    if (this.table[free] === 0) this.used += 1;
    this.table[free] = id + 1;
    this.live += 1;
    if (this.used * 4 > this.table.length * 3) this.rehash(this.live * 2 > this.table.length / 2 ? this.table.length * 2 : this.table.length);
    return id;
  }

  release(id: number): void {
    if (--this.refs[id]! > 0) return;
    const mask = this.table.length - 1;
    for (let slot = this.keyHashes[id]! & mask; ; slot = (slot + 1) & mask) {
      const v = this.table[slot]!;
      if (v === 0) throw new Error(`packed store: record ${id} is not in the table`);
      if (v === id + 1) {
        this.table[slot] = -1;
        break;
      }
    }
    this.live -= 1;
    this.dead += this.bytes[id]!;
    this.bytes[id] = 0;
    this.offset[id] = 0;
    if (id === this.ids - 1) {
      // The highest id in use left: lower the mark past every free id under it, and give the arrays back when mostly unused.
      while (this.ids > 0 && this.refs[this.ids - 1] === 0) this.ids -= 1;
      if (this.ids * 4 <= this.offset.length && this.offset.length > MIN_IDS) this.resizeIds(Math.max(MIN_IDS, roundUp(2 * this.ids)));
    } else this.pushFree(id);
    if (this.live * 8 < this.table.length && this.table.length > MIN_TABLE) this.rehash(Math.max(MIN_TABLE, roundUp(4 * this.live)));
    // Into a new buffer the size of what is live (with room to grow), so the pages of the old one go back to the system.
    if (this.dead > 1 << 20 && this.dead * 2 > this.end) this.compact(this.roomFor(0));
  }

  /** Bytes held, by what holds them: the records' (in use, live), the per-id arrays, the hash table. */
  footprint(): { used: number; live: number; capacity: number; ids: number; table: number } {
    const perId = this.offset.byteLength + this.keyBytes.byteLength + this.bytes.byteLength + this.refs.byteLength;
    return {
      used: this.end,
      live: this.end - this.dead,
      capacity: this.buf.length,
      ids: perId + this.keyHashes.byteLength + this.wide.byteLength + this.free.byteLength,
      table: this.table.byteLength,
    };
  }

  /** How many ids the per-id arrays have room for: every id in use is below it (the state index sizes its own by it). */
  get idCapacity(): number {
    return this.offset.length;
  }

  key(id: number): string {
    const at = this.offset[id]!;
    return this.buf.toString(this.wide[id]! & KEY_WIDE ? 'utf16le' : 'latin1', at, at + this.keyBytes[id]!);
  }

  state(id: number): PackedState {
    const at = this.offset[id]! + this.keyBytes[id]!;
    return this.buf.toString(this.wide[id]! & STATE_WIDE ? 'utf16le' : 'latin1', at, this.offset[id]! + this.bytes[id]!);
  }

  keyEquals(id: number, key: string): boolean {
    return this.textEquals(this.offset[id]!, this.keyBytes[id]!, (this.wide[id]! & KEY_WIDE) !== 0, key);
  }

  /** Orders the records' keys as strings compare (by UTF-16 units), without making them. */
  compareKeys(a: number, b: number): number {
    if (a === b) return 0;
    const { buf } = this;
    const wa = (this.wide[a]! & KEY_WIDE) !== 0;
    const wb = (this.wide[b]! & KEY_WIDE) !== 0;
    const oa = this.offset[a]!;
    const ob = this.offset[b]!;
    const na = wa ? this.keyBytes[a]! / 2 : this.keyBytes[a]!;
    const nb = wb ? this.keyBytes[b]! / 2 : this.keyBytes[b]!;
    const n = Math.min(na, nb);
    for (let i = 0; i < n; i++) {
      const x = wa ? buf[oa + 2 * i]! | (buf[oa + 2 * i + 1]! << 8) : buf[oa + i]!;
      const y = wb ? buf[ob + 2 * i]! | (buf[ob + 2 * i + 1]! << 8) : buf[ob + i]!;
      if (x !== y) return x - y;
    }
    return na - nb;
  }

  private stateEquals(id: number, state: string): boolean {
    return this.textEquals(this.offset[id]! + this.keyBytes[id]!, this.bytes[id]! - this.keyBytes[id]!, (this.wide[id]! & STATE_WIDE) !== 0, state);
  }

  private textEquals(at: number, n: number, wide: boolean, s: string): boolean {
    const { buf } = this;
    if (wide) {
      if (n !== 2 * s.length) return false;
      for (let i = 0; i < s.length; i++) if ((buf[at + 2 * i]! | (buf[at + 2 * i + 1]! << 8)) !== s.charCodeAt(i)) return false;
      return true;
    }
    if (n !== s.length) return false;
    for (let i = 0; i < n; i++) if (buf[at + i] !== s.charCodeAt(i)) return false;
    return true;
  }

  private add(key: string, state: string, keyHash: number): number {
    // Nearly always both are one-byte text: copied by a loop that checks each unit as it goes (two calls into
    // Buffer.write and a scan of each for its width cost more); the other layouts only when a unit is wider.
    const narrow = key.length + state.length;
    if (this.end + narrow > this.buf.length) this.compact(this.roomFor(narrow));
    const { buf } = this;
    const at = this.end;
    let i = 0;
    for (; i < key.length; i++) {
      const c = key.charCodeAt(i);
      if (c > 0xff) break;
      buf[at + i] = c;
    }
    let j = 0;
    if (i === key.length) {
      for (; j < state.length; j++) {
        const c = state.charCodeAt(j);
        if (c > 0xff) break;
        buf[at + i + j] = c;
      }
    }
    if (i === key.length && j === state.length) return this.placed(at, key.length, narrow, keyHash, 0);
    const keyWide = !isNarrow(key);
    const stateWide = !isNarrow(state);
    const kb = keyWide ? 2 * key.length : key.length;
    const n = kb + (stateWide ? 2 * state.length : state.length);
    if (this.end + n > this.buf.length) this.compact(this.roomFor(n));
    this.buf.write(key, this.end, keyWide ? 'utf16le' : 'latin1');
    this.buf.write(state, this.end + kb, stateWide ? 'utf16le' : 'latin1');
    return this.placed(this.end, kb, n, keyHash, (keyWide ? KEY_WIDE : 0) | (stateWide ? STATE_WIDE : 0));
  }

  /** A new record of the `n` bytes written at `at` (the first `kb` its key's). */
  private placed(at: number, kb: number, n: number, keyHash: number, wide: number): number {
    const id = this.takeId();
    this.end = at + n;
    this.offset[id] = at;
    this.keyBytes[id] = kb;
    this.bytes[id] = n;
    this.refs[id] = 1;
    this.keyHashes[id] = keyHash;
    this.wide[id] = wide;
    return id;
  }

  /** A buffer size for the live records and `n` more bytes, with room for as many again as they hold in all (at most half). */
  private roomFor(n: number): number {
    const needed = this.end - this.dead + n;
    // Offsets are 32-bit: 4 GiB is some twenty million incidents.
    if (needed >= 2 ** 32) throw new Error('packed store: more than 4 GiB of states');
    return Math.min(Math.max(needed + (needed >>> 1), 1 << 16), 2 ** 32 - 1);
  }

  /**
   * The live records' bytes copied to the start of a new buffer of `capacity` bytes. Always a new one, never moved
   * down within the old: the old one's pages, written as far as records were ever appended, go back to the system
   * when it is collected, and a new one's are only taken as far as they are written.
   */
  private compact(capacity: number): void {
    const target = Buffer.allocUnsafeSlow(capacity);
    let end = 0;
    // Records that lie one after the other in the old buffer (in id order, as they were appended) are copied together.
    let from = 0;
    let to = 0;
    for (let id = 0; id < this.ids; id++) {
      if (this.refs[id] === 0) continue;
      const at = this.offset[id]!;
      const n = this.bytes[id]!;
      if (at !== to) {
        if (to > from) this.buf.copy(target, end - (to - from), from, to);
        from = at;
      }
      to = at + n;
      this.offset[id] = end;
      end += n;
    }
    if (to > from) this.buf.copy(target, end - (to - from), from, to);
    this.buf = target;
    this.end = end;
    this.dead = 0;
  }

  /** The lowest free id (growing the per-id arrays when there is none below their size). */
  private takeId(): number {
    while (this.freed > 0) {
      const id = this.popFree();
      if (id < this.ids) return id;
      // The rest are at or above the mark too (lowest first): none is free any more.
      this.freed = 0;
    }
    const id = this.ids++;
    if (id >= this.offset.length) this.resizeIds(2 * this.offset.length);
    return id;
  }

  private pushFree(id: number): void {
    if (this.freed === this.free.length) this.free = grown(this.free, 2 * this.free.length);
    const heap = this.free;
    let i = this.freed++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= id) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = id;
  }

  private popFree(): number {
    const heap = this.free;
    const top = heap[0]!;
    const last = heap[--this.freed]!;
    const n = this.freed;
    let i = 0;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      if (m + 1 < n && heap[m + 1]! < heap[m]!) m += 1;
      if (heap[m]! >= last) break;
      heap[i] = heap[m]!;
      i = m;
    }
    if (n > 0) heap[i] = last;
    return top;
  }

  /** The per-id arrays at `n` ids (every id in use below it), and the free ids without those at or above the mark. */
  private resizeIds(n: number): void {
    this.offset = resized(this.offset, n);
    this.keyBytes = resized(this.keyBytes, n);
    this.bytes = resized(this.bytes, n);
    this.refs = resized(this.refs, n);
    this.keyHashes = resized(this.keyHashes, n);
    this.wide = resized(this.wide, n);
    if (n >= this.free.length) return;
    // Smaller: the free ids below the mark, sorted (a sorted array is a min-heap), in an array of their size.
    const below = this.free.subarray(0, this.freed).filter((id) => id < this.ids).sort();
    this.free = new Int32Array(Math.max(MIN_IDS, roundUp(below.length)));
    this.free.set(below);
    this.freed = below.length;
  }

  private rehash(size: number): void {
    const old = this.table;
    this.table = new Int32Array(size);
    const mask = size - 1;
    for (const v of old) {
      if (v <= 0) continue;
      let slot = this.keyHashes[v - 1]! & mask;
      while (this.table[slot] !== 0) slot = (slot + 1) & mask;
      this.table[slot] = v;
    }
    this.used = this.live;
  }
}

/** The one arena of the process: every store's records are in it, so equal ones are held once. */
export const records = new Arena();

interface Held {
  order: Int32Array;
  length: number;
}

const releaseAll = (held: Held) => {
  for (let i = 0; i < held.length; i++) if (held.order[i]! >= 0) records.release(held.order[i]!);
  held.length = 0;
};

/** A store dropped without `clear` (a state index replaced, a partition's states restored again) gives its records back. */
const unreferenced = new FinalizationRegistry(releaseAll);

/**
 * A map from key to packed state, in insertion order like a Map, with the key and the state held as one record
 * of the arena (see the top of this file): per key a record id and a slot of a hash table (about 12 bytes) on
 * top of the record's bytes.
 */
export class PackedStore implements Iterable<[string, PackedState]> {
  /** Record ids in insertion order (-1 where one was deleted), in an object of its own for `unreferenced`. */
  private readonly held: Held = { order: new Int32Array(16), length: 0 };
  /** Open addressing by key hash: position in `order` + 1, 0 empty, -1 a removed one. */
  private table = new Int32Array(32);
  private used = 0;
  private count = 0;

  constructor() {
    unreferenced.register(this, this.held);
  }

  get size(): number {
    return this.count;
  }

  get [Symbol.toStringTag](): string {
    return 'PackedStore';
  }

  /** Bytes of its own arrays (the records are the arena's, `records.footprint()`). */
  get footprint(): number {
    return this.order.byteLength + this.table.byteLength;
  }

  has(key: string): boolean {
    return this.position(key, hashOf(key, FNV)) >= 0;
  }

  get(key: string): PackedState | undefined {
    const id = this.id(key);
    return id < 0 ? undefined : records.state(id);
  }

  /** The record id held for `key`, or -1. */
  id(key: string): number {
    const at = this.position(key, hashOf(key, FNV));
    return at < 0 ? -1 : this.order[at]!;
  }

  set(key: string, state: PackedState): this {
    this.put(key, state);
    return this;
  }

  /** Holds `state` for `key` (in the place of the key's previous one) and returns the record's id. */
  put(key: string, state: PackedState): number {
    const keyHash = hashOf(key, FNV);
    const id = records.retain(key, state, keyHash);
    const at = this.position(key, keyHash);
    if (at >= 0) {
      records.release(this.order[at]!);
      this.order[at] = id;
      return id;
    }
    if (this.length === this.order.length) this.tidy(this.order.length * (this.count * 2 > this.order.length ? 2 : 1));
    const mask = this.table.length - 1;
    let slot = keyHash & mask;
    while (this.table[slot]! > 0) slot = (slot + 1) & mask;
    if (this.table[slot] === 0) this.used += 1;
    this.table[slot] = this.length + 1;
    this.order[this.length++] = id;
    this.count += 1;
    if (this.used * 4 > this.table.length * 3) this.rehash(this.count * 2 > this.table.length / 2 ? this.table.length * 2 : this.table.length);
    return id;
  }

  delete(key: string): boolean {
    const keyHash = hashOf(key, FNV);
    const mask = this.table.length - 1;
    for (let slot = keyHash & mask; ; slot = (slot + 1) & mask) {
      const v = this.table[slot]!;
      if (v === 0) return false;
      if (v < 0) continue;
      const id = this.order[v - 1]!;
      if (records.keyHash(id) === keyHash && records.keyEquals(id, key)) {
        this.table[slot] = -1;
        this.order[v - 1] = -1;
        this.count -= 1;
        records.release(id);
        if (this.count * 4 < this.length && this.length > 64) this.tidy(Math.max(16, this.count * 2));
        return true;
      }
    }
  }

  clear(): void {
    releaseAll(this.held);
    this.order = new Int32Array(16);
    this.table = new Int32Array(32);
    this.used = 0;
    this.count = 0;
  }

  /** Record ids in insertion order. */
  *ids(): IterableIterator<number> {
    for (let i = 0; i < this.length; i++) {
      const id = this.order[i]!;
      if (id >= 0) yield id;
    }
  }

  *keys(): IterableIterator<string> {
    for (const id of this.ids()) yield records.key(id);
  }

  *values(): IterableIterator<PackedState> {
    for (const id of this.ids()) yield records.state(id);
  }

  *entries(): IterableIterator<[string, PackedState]> {
    for (const id of this.ids()) yield [records.key(id), records.state(id)];
  }

  [Symbol.iterator](): IterableIterator<[string, PackedState]> {
    return this.entries();
  }

  private get order(): Int32Array {
    return this.held.order;
  }

  private set order(order: Int32Array) {
    this.held.order = order;
  }

  private get length(): number {
    return this.held.length;
  }

  private set length(n: number) {
    this.held.length = n;
  }

  private position(key: string, keyHash: number): number {
    const mask = this.table.length - 1;
    for (let slot = keyHash & mask; ; slot = (slot + 1) & mask) {
      const v = this.table[slot]!;
      if (v === 0) return -1;
      if (v < 0) continue;
      const id = this.order[v - 1]!;
      if (records.keyHash(id) === keyHash && records.keyEquals(id, key)) return v - 1;
    }
  }

  /** `order` without its holes, in an array of `capacity`, and the table made again over it. */
  private tidy(capacity: number): void {
    const order = new Int32Array(capacity);
    let n = 0;
    for (let i = 0; i < this.length; i++) if (this.order[i]! >= 0) order[n++] = this.order[i]!;
    this.order = order;
    this.length = n;
    let size = 32;
    while (size < n * 2) size *= 2;
    this.rehash(size);
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    const mask = size - 1;
    for (let i = 0; i < this.length; i++) {
      const id = this.order[i]!;
      if (id < 0) continue;
      let slot = records.keyHash(id) & mask;
      while (this.table[slot] !== 0) slot = (slot + 1) & mask;
      this.table[slot] = i + 1;
    }
    this.used = this.count;
  }
}
