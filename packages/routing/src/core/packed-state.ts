import type { RouterState } from '../state';

/**
 * States held in memory as one compact string each, unpacked when a decision reads them: a router holds
 * every open incident (a million is a storm's worth), and as objects each costs kilobytes. The string is a
 * sequence of tokens, one-byte characters unless the state's own text needs more:
 * - objects by their key list (a "shape", numbered once per process) followed by their values;
 * - strings seen again are numbered once (labels, rules, storms, descriptions, channels) and referred to;
 *   the rest inline, with UUIDs as 16 bytes and ISO instants as their milliseconds;
 * - the key the state is stored under (its alias, or a Slack record's key) as one character.
 * Unpacking gives an object equal to the packed one as JSON (same keys in the same order, same values),
 * which is what decisions and the state topic see, so decisions are the same either way.
 */
export type PackedState = string;

const enum Tag {
  Null,
  True,
  False,
  Key,
  Array,
  Object,
  Text,
  Interned,
  Uuid,
  Instant,
  Integer,
  Number,
  Earlier,
  LooseObject,
  Prefixed,
}

/** Strings numbered so far: append-only, since packed states refer to them by number for as long as they live. */
const strings: string[] = [];
/**
 * The numbered strings by hash (see `hash`): open addressing, the hash and the number + 1 of each (0 empty). A state
 * asks for twenty-odd strings, most of them not numbered: a miss here is a probe or two of typed arrays, where a Map
 * of the strings hashed each one again and then compared it with its bucket's strings.
 */
let numberedHashes = new Int32Array(1 << 12);
let numberedIds = new Int32Array(1 << 12);
/**
 * Strings seen once lately, by their hash: a second sighting numbers them, so one-off values (ids, hosts) never fill
 * the table. Hashes, not the strings: holding each state's one-off strings for a while would keep them past the
 * young generation, and a million incidents' worth of that garbage scattered among the states they belong to
 * fragments the old space (RSS three times the live heap). A collision only numbers a string early. Open addressing
 * over typed arrays (a hash per slot and its mark: 0 empty, 1 held, 2 removed), emptied when SEEN_ONCE_MAX are held.
 */
const SEEN_ONCE_SLOTS = 1 << 16;
const seenOnceHashes = new Int32Array(SEEN_ONCE_SLOTS);
const seenOnceMarks = new Uint8Array(SEEN_ONCE_SLOTS);
let seenOnceSize = 0;
/** Removed marks: when they and the held fill half the slots, the held are placed again in an emptied table. */
let seenOnceRemoved = 0;
const SEEN_ONCE_MAX = 16_384;
const STRINGS_MAX = 1 << 20;
const INTERN_MAX_LENGTH = 96;

const shapes: string[][] = [];
const SHAPES_MAX = 1 << 16;

const HEX = '0123456789abcdef';
/** Each byte's two hex digits, made once: a UUID is unpacked from 16 of them. */
const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => HEX[b >> 4]! + HEX[b & 15]!);
/** The value of a lowercase hex digit (isUuid has checked it is one). */
const nibble = (c: number): number => (c <= 57 ? c - 48 : c - 87);

/** /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, by character codes (a state holds several). */
export function isUuid(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

const digits = (s: string, from: number, n: number): number => {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
};
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The milliseconds of `s` when it is an instant as toISOString writes it (`YYYY-MM-DDTHH:MM:SS.mmmZ`) and not before
 * 1970, else -1: the same answer as `Date.parse(s) >= 0 && new Date(Date.parse(s)).toISOString() === s`, by
 * character codes (a state holds several instants, and the round trip through Date was most of their packing).
 */
export function instantMs(s: string): number {
  if (s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84) return -1;
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return -1;
  const y = digits(s, 0, 4);
  const mo = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  const h = digits(s, 11, 2);
  const mi = digits(s, 14, 2);
  const sec = digits(s, 17, 2);
  const ms = digits(s, 20, 3);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms < 0) return -1;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && leap ? 29 : DAYS[mo - 1]!)) return -1;
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms);
}

/**
 * The packed units being written, one byte each while every unit fits in one; the first wider unit moves them to
 * `units`, two bytes each. The string is made once at the end (latin1 from the bytes, as nearly every state is):
 * appending a token at a time made a rope of a hundred-odd pieces per state, copied again when the arena flattened it.
 */
const BUF_MIN = 1024;
/** Room kept between states at most: a rare large state's buffer is let go after it. */
const BUF_KEPT = 1 << 16;
let buf = Buffer.allocUnsafeSlow(BUF_MIN);
let units = new Uint16Array(0);
let len = 0;
let wide = false;

const code = (c: number): void => {
  if (!wide) {
    if (c < 256) {
      if (len === buf.length) growBytes();
      buf[len++] = c;
      return;
    }
    widen();
  }
  if (len === units.length) {
    const u = new Uint16Array(units.length * 2);
    u.set(units);
    units = u;
  }
  units[len++] = c;
};

function growBytes(): void {
  const b = Buffer.allocUnsafeSlow(buf.length * 2);
  buf.copy(b, 0, 0, len);
  buf = b;
}

function widen(): void {
  units = new Uint16Array(Math.max(2 * len, BUF_MIN));
  for (let i = 0; i < len; i++) units[i] = buf[i]!;
  wide = true;
}

/** The units written as a string. */
function written(): string {
  if (!wide) return buf.toString('latin1', 0, len);
  let s = '';
  for (let i = 0; i < len; i += 4096) s += String.fromCharCode.apply(null, units.subarray(i, Math.min(len, i + 4096)) as unknown as number[]);
  return s;
}

/**
 * The strings of the state being packed that were written out in full so far, by their place among them (what
 * `Tag.Earlier` refers to): open addressing by the same FNV hash the numbering looks up, a slot in use when its round
 * is the current state's (`earlierRound`), so nothing is cleared between states. `earlierStrings` is emptied after
 * each state: it must not hold the state's strings past its packing.
 */
let earlierGen = new Int32Array(256);
let earlierHashes = new Int32Array(256);
let earlierIds = new Int32Array(256);
const earlierStrings: Array<string | undefined> = [];
let earlierCount = 0;
let earlierRound = 0;

function growEarlier(): void {
  const n = earlierGen.length * 2;
  earlierGen = new Int32Array(n);
  earlierHashes = new Int32Array(n);
  earlierIds = new Int32Array(n);
  earlierRound = 1;
  const mask = n - 1;
  for (let i = 0; i < earlierCount; i++) {
    const h = hash(earlierStrings[i]!);
    let slot = h & mask;
    while (earlierGen[slot] === earlierRound) slot = (slot + 1) & mask;
    earlierGen[slot] = earlierRound;
    earlierHashes[slot] = h;
    earlierIds[slot] = i;
  }
}

function varint(n: number): void {
  while (n >= 128) {
    code((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  code(n);
}

/** FNV-1a over the UTF-16 units, as a 32-bit integer. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** The string's number: found, or given now at its second sighting (see `seenOnceHashes`), else undefined. */
function internedId(s: string): number | undefined {
  // Never numbered.
  if (s.length > INTERN_MAX_LENGTH) return undefined;
  return numbered(s, hash(s));
}

/** internedId of a string no longer than INTERN_MAX_LENGTH whose hash is `h`. */
function numbered(s: string, h: number): number | undefined {
  const mask = numberedIds.length - 1;
  let slot = h & mask;
  for (let v = numberedIds[slot]!; v !== 0; v = numberedIds[(slot = (slot + 1) & mask)]!) {
    if (numberedHashes[slot] === h && strings[v - 1] === s) return v - 1;
  }
  if (strings.length >= STRINGS_MAX) return undefined;
  if (!seenOnce(h >> 1)) return undefined;
  numberedHashes[slot] = h;
  numberedIds[slot] = strings.push(s);
  if (strings.length * 2 > numberedIds.length) growNumbered();
  return strings.length - 1;
}

/** Whether `k` was seen once lately: if so it is forgotten (the string is numbered now), else remembered. */
function seenOnce(k: number): boolean {
  const mask = SEEN_ONCE_SLOTS - 1;
  let slot = (k ^ (k >>> 15)) & mask;
  let removed = -1;
  for (let mark = seenOnceMarks[slot]!; mark !== 0; mark = seenOnceMarks[(slot = (slot + 1) & mask)]!) {
    if (mark === 1 && seenOnceHashes[slot] === k) {
      seenOnceMarks[slot] = 2;
      seenOnceSize -= 1;
      if (++seenOnceRemoved + seenOnceSize > SEEN_ONCE_SLOTS / 2) replaceSeenOnce();
      return true;
    }
    if (mark === 2 && removed < 0) removed = slot;
  }
  if (seenOnceSize >= SEEN_ONCE_MAX) {
    seenOnceMarks.fill(0);
    seenOnceSize = 0;
    seenOnceRemoved = 0;
    return seenOnce(k);
  }
  if (removed >= 0) {
    slot = removed;
    seenOnceRemoved -= 1;
  }
  seenOnceMarks[slot] = 1;
  seenOnceHashes[slot] = k;
  seenOnceSize += 1;
  return false;
}

function replaceSeenOnce(): void {
  const held: number[] = [];
  for (let i = 0; i < SEEN_ONCE_SLOTS; i++) if (seenOnceMarks[i] === 1) held.push(seenOnceHashes[i]!);
  seenOnceMarks.fill(0);
  seenOnceSize = 0;
  seenOnceRemoved = 0;
  for (const k of held) seenOnce(k);
}

function growNumbered(): void {
  const hashes = new Int32Array(numberedIds.length * 2);
  const ids = new Int32Array(numberedIds.length * 2);
  const mask = ids.length - 1;
  for (let i = 0; i < numberedIds.length; i++) {
    const v = numberedIds[i]!;
    if (v === 0) continue;
    let slot = numberedHashes[i]! & mask;
    while (ids[slot] !== 0) slot = (slot + 1) & mask;
    hashes[slot] = numberedHashes[i]!;
    ids[slot] = v;
  }
  numberedHashes = hashes;
  numberedIds = ids;
}

function packString(s: string, key: string | null): void {
  if (s === key) return void code(Tag.Key);
  // A string repeated within the state (openedAt, lastSeenAt, …) refers back to itself: that alone is no reason to number it.
  const h = hash(s);
  const mask = earlierGen.length - 1;
  let slot = h & mask;
  for (; earlierGen[slot] === earlierRound; slot = (slot + 1) & mask) {
    if (earlierHashes[slot] === h && earlierStrings[earlierIds[slot]!] === s) {
      code(Tag.Earlier);
      return varint(earlierIds[slot]!);
    }
  }
  const id = s.length > INTERN_MAX_LENGTH ? undefined : numbered(s, h);
  if (id !== undefined) {
    code(Tag.Interned);
    return varint(id);
  }
  earlierGen[slot] = earlierRound;
  earlierHashes[slot] = h;
  earlierIds[slot] = earlierCount;
  earlierStrings[earlierCount++] = s;
  if (earlierCount * 2 > earlierGen.length) growEarlier();
  if (s.length === 36 && isUuid(s)) {
    code(Tag.Uuid);
    for (let i = 0; i < 36; i += 2) {
      if (i === 8 || i === 13 || i === 18 || i === 23) i += 1;
      code(nibble(s.charCodeAt(i)) * 16 + nibble(s.charCodeAt(i + 1)));
    }
    return;
  }
  if (s.length === 24 && s.charCodeAt(23) === 90) {
    const ms = instantMs(s);
    if (ms >= 0) {
      code(Tag.Instant);
      return varint(ms);
    }
  }
  // Text that differs from others only at its end (a host, a URL's last parameter): the common start once, numbered.
  const cut = s.length >= PREFIX_MIN ? lastSeparator(s) + 1 : 0;
  const prefixId = cut >= 4 && cut < s.length ? internedId(s.slice(0, cut)) : undefined;
  if (prefixId !== undefined) {
    code(Tag.Prefixed);
    varint(prefixId);
    return text(s.slice(cut));
  }
  code(Tag.Text);
  text(s);
}

const PREFIX_MIN = 12;

function lastSeparator(s: string): number {
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    const word = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!word) return i;
  }
  return -1;
}

function text(s: string): void {
  varint(s.length);
  for (let i = 0; i < s.length; i++) code(s.charCodeAt(i));
}

/** Shapes by their keys one after the other: found without joining the keys into one string for every object packed. */
interface ShapeNode {
  id?: number;
  next?: Map<string, ShapeNode>;
}
const shapeTree: ShapeNode = {};

function shapeId(keys: string[]): number | undefined {
  let node = shapeTree;
  for (const k of keys) {
    let next = node.next?.get(k);
    if (!next) {
      if (shapes.length >= SHAPES_MAX) return undefined;
      (node.next ??= new Map()).set(k, (next = {}));
    }
    node = next;
  }
  if (node.id === undefined && shapes.length < SHAPES_MAX) {
    node.id = shapes.length;
    shapes.push(keys);
  }
  return node.id;
}

function packValue(v: unknown, key: string | null): void {
  switch (typeof v) {
    case 'string':
      return packString(v, key);
    case 'boolean':
      return void code(v ? Tag.True : Tag.False);
    case 'number':
      if (Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0)) {
        code(Tag.Integer);
        return varint(v);
      }
      code(Tag.Number);
      return packString(JSON.stringify(v), null);
    case 'object': {
      if (v === null) return void code(Tag.Null);
      if (Array.isArray(v)) {
        code(Tag.Array);
        varint(v.length);
        for (const x of v) packValue(x === undefined ? null : x, key);
        return;
      }
      // A plain object of a shape already numbered (nearly every one): its keys walked in place, in the order
      // Object.keys gives (own enumerable string keys; a plain object inherits none), no arrays of keys and values.
      if (Object.getPrototypeOf(v) === Object.prototype) {
        const o = v as Record<string, unknown>;
        let node: ShapeNode | undefined = shapeTree;
        for (const k in o) {
          const x = o[k];
          if (x === undefined || typeof x === 'function') {
            node = undefined;
            break;
          }
          node = node.next?.get(k);
          if (node === undefined) break;
        }
        if (node !== undefined && node.id !== undefined) {
          code(Tag.Object);
          varint(node.id);
          for (const k in o) packValue(o[k], key);
          return;
        }
      }
      // Keys and values in the same order (both own enumerable string keys, as JSON.stringify takes them): read
      // together, not by looking each key up again (a keyed load of a name known only at run time).
      let keys = Object.keys(v);
      let values = Object.values(v);
      for (let i = 0; i < values.length; i++) {
        const x = values[i];
        if (x === undefined || typeof x === 'function') {
          const kept = values.map((y) => y !== undefined && typeof y !== 'function');
          keys = keys.filter((_, j) => kept[j]);
          values = values.filter((_, j) => kept[j]);
          break;
        }
      }
      const id = shapeId(keys);
      if (id === undefined) {
        code(Tag.LooseObject);
        varint(keys.length);
        for (let i = 0; i < keys.length; i++) {
          packString(keys[i]!, null);
          packValue(values[i], key);
        }
        return;
      }
      code(Tag.Object);
      varint(id);
      for (let i = 0; i < values.length; i++) packValue(values[i], key);
      return;
    }
    default:
      throw new Error(`cannot pack a ${typeof v} in a router state`);
  }
}

/** The state as a packed string (see PackedState); `key` is what it is stored under. */
export function packState(state: RouterState, key: string): PackedState {
  len = 0;
  wide = false;
  if (++earlierRound === 0x7fffffff) {
    earlierGen.fill(0);
    earlierRound = 1;
  }
  earlierCount = 0;
  try {
    packValue(state, key);
  } finally {
    for (let i = 0; i < earlierCount; i++) earlierStrings[i] = undefined;
  }
  const s = written();
  if (buf.length > BUF_KEPT) buf = Buffer.allocUnsafeSlow(BUF_MIN);
  if (units.length > BUF_KEPT) units = new Uint16Array(0);
  return s;
}

let src = '';
let pos = 0;
let srcKey = '';
let texts: string[] = [];

/** The hex digits of the packed byte at `i` of the source. */
const hexAt = (i: number): string => HEX_PAIRS[src.charCodeAt(i)]!;

function readVarint(): number {
  let n = 0;
  let scale = 1;
  for (;;) {
    const c = src.charCodeAt(pos++);
    if (c < 128) return n + c * scale;
    n += (c - 128) * scale;
    scale *= 128;
  }
}

function readText(): string {
  const n = readVarint();
  const s = src.slice(pos, pos + n);
  pos += n;
  return s;
}

function readValue(): unknown {
  const tag = src.charCodeAt(pos++) as Tag;
  switch (tag) {
    case Tag.Null:
      return null;
    case Tag.True:
      return true;
    case Tag.False:
      return false;
    case Tag.Key:
      return srcKey;
    case Tag.Interned:
      return strings[readVarint()];
    case Tag.Earlier:
      return texts[readVarint()];
    case Tag.Uuid: {
      const s =
        hexAt(pos) + hexAt(pos + 1) + hexAt(pos + 2) + hexAt(pos + 3) + '-' + hexAt(pos + 4) + hexAt(pos + 5) + '-' + hexAt(pos + 6) + hexAt(pos + 7) + '-' +
        hexAt(pos + 8) + hexAt(pos + 9) + '-' + hexAt(pos + 10) + hexAt(pos + 11) + hexAt(pos + 12) + hexAt(pos + 13) + hexAt(pos + 14) + hexAt(pos + 15);
      pos += 16;
      texts.push(s);
      return s;
    }
    case Tag.Instant: {
      const s = new Date(readVarint()).toISOString();
      texts.push(s);
      return s;
    }
    case Tag.Text: {
      const s = readText();
      texts.push(s);
      return s;
    }
    case Tag.Prefixed: {
      const s = strings[readVarint()]! + readText();
      texts.push(s);
      return s;
    }
    case Tag.Integer:
      return readVarint();
    case Tag.Number:
      return JSON.parse(readValue() as string) as number;
    case Tag.Array: {
      const n = readVarint();
      const a: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) a[i] = readValue();
      return a;
    }
    case Tag.Object: {
      const keys = shapes[readVarint()]!;
      const o: Record<string, unknown> = {};
      for (const k of keys) o[k] = readValue();
      return o;
    }
    case Tag.LooseObject: {
      const n = readVarint();
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = readValue() as string;
        o[k] = readValue();
      }
      return o;
    }
    default:
      throw new Error(`not a packed router state (tag ${String(tag)} at ${pos - 1})`);
  }
}

/** The state a packed string holds; `key` is what it was stored under. */
export function unpackState<S extends RouterState = RouterState>(packed: PackedState, key: string): S {
  src = packed;
  pos = 0;
  srcKey = key;
  texts = [];
  try {
    return readValue() as S;
  } finally {
    src = '';
    texts = [];
  }
}

/** The numbered instance of `s` when it has one, else `s`: for holders that would otherwise keep a copy each. */
export function internedString(s: string): string {
  const h = hash(s);
  const mask = numberedIds.length - 1;
  for (let slot = h & mask, v = numberedIds[slot]!; v !== 0; v = numberedIds[(slot = (slot + 1) & mask)]!) {
    if (numberedHashes[slot] === h && strings[v - 1] === s) return strings[v - 1]!;
  }
  return s;
}
