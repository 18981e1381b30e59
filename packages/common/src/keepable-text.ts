/**
 * Text every part of alertbus can keep: Postgres refuses NUL in text and jsonb and lone surrogates in jsonb,
 * and no reader of an alert wants control characters. Ingest applies this at the edge; the history
 * projection applies it again to what was recorded before ingest did.
 */

/** Any character that is removed or replaced; the fast test before the slower replace. */
const SUSPECT = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\uD800-\uDFFF]/;

/**
 * Control characters (C0 except tab and newline, DEL, C1), and surrogates that are not part of a pair.
 * Without the `u` flag a regex sees UTF-16 code units, so a pair is a high unit followed by a low one.
 */
const UNKEEPABLE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export const REPLACEMENT_CHARACTER = '\uFFFD';

export interface Kept<T> {
  value: T;
  /** How many characters were removed (controls, NUL) or replaced with U+FFFD (lone surrogates). */
  changed: number;
}

/** The string without control characters (tab and newline stay) and with every lone surrogate as U+FFFD. */
export function keepableText(s: string): Kept<string> {
  if (!SUSPECT.test(s)) return { value: s, changed: 0 };
  let changed = 0;
  const value = s.replace(UNKEEPABLE, (c) => {
    changed += 1;
    return c.charCodeAt(0) >= 0xd800 ? REPLACEMENT_CHARACTER : '';
  });
  return { value, changed };
}

/**
 * The same for every string of a JSON value, object keys included. A key that becomes equal to a key
 * already there (or to `__proto__`) gets U+FFFD appended, so no value is lost and no prototype is touched.
 * Returns the very same value when nothing had to change.
 */
export function keepableJson<T>(value: T): Kept<T> {
  return walk(value) as Kept<T>;
}

function walk(value: unknown): Kept<unknown> {
  if (typeof value === 'string') return keepableText(value);
  if (Array.isArray(value)) {
    let changed = 0;
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = walk(value[i]);
      if (r.changed > 0) {
        out ??= value.slice();
        out[i] = r.value;
        changed += r.changed;
      }
    }
    return { value: out ?? value, changed };
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    let changed = 0;
    const kept: Array<[string, unknown]> = [];
    for (const [k, v] of entries) {
      const key = keepableText(k);
      const val = walk(v);
      changed += key.changed + val.changed;
      kept.push([key.value, val.value]);
    }
    if (changed === 0) return { value, changed };
    const out: Record<string, unknown> = {};
    const taken = new Set(entries.map(([k]) => k));
    for (const [i, [key, v]] of kept.entries()) {
      let name = key;
      if (name !== entries[i]![0]) while (taken.has(name) || name === '__proto__') name += REPLACEMENT_CHARACTER;
      taken.add(name);
      Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return { value: out, changed };
  }
  return { value, changed: 0 };
}
