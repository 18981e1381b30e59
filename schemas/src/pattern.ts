/**
 * Regexes from users and config files, compiled with RE2 (re2js): the engine family of Alertmanager's Go
 * `regexp`, so patterns mean what they mean there, and matching takes time linear in the input whatever
 * the pattern — none has to be refused for how it might backtrack. Compiling is not free, though: a pattern
 * is refused when the program it would compile to is too large (`PATTERN_LIMITS.maxSize`).
 */
import { RE2JS } from 're2js';

/** Bounds on one regex and on how many a rule may hold; the rules check and the silence API enforce them. */
export const PATTERN_LIMITS = {
  /** Longest regex of one matcher, in code points. */
  maxLength: 1000,
  /** Most regex matchers (`=~`, `!~`) in one list: a rule's `match`, an inhibit rule's side, one silence. */
  maxPerList: 20,
  /**
   * Largest program one regex may compile to, in instructions as estimated by `patternSize`: re2js compiles
   * `x{1000}` into 1000 copies of x, synchronously, at about 10 µs per instruction (see the commit that set it).
   */
  maxSize: 2000,
} as const;

/**
 * What one Unicode class (`\pL`, `[^\p{Greek}]`) counts in `patternSize`: it holds hundreds of ranges, which re2js
 * copies for every instruction and scans at the first match, several times the cost of a literal.
 */
export const UNICODE_CLASS_SIZE = 20;

/** Compiled patterns kept for reuse (rules reloads, silences replayed at every start, the silence API). */
const CACHE_SIZE = 2048;

/** A compiled regex that matches whole values only (Alertmanager's `^(?:pattern)$`). */
export interface Pattern {
  /** The pattern as written. */
  readonly source: string;
  /** Whether the whole value matches; linear in the value's length. */
  test(value: string): boolean;
}

export type CompiledPattern = { ok: true; pattern: Pattern } | { ok: false; error: string };

const cache = new Map<string, Pattern>();

/** What RE2 refuses that other engines accept, said in words: its message names the token, not the reason. */
function hint(message: string): string {
  const why = (what: string) => ` (${what} are not supported: patterns use RE2 syntax, as in Alertmanager)`;
  if (/`\(\?<?[=!]/.test(message)) return why('lookahead and lookbehind');
  if (/`\\(?:[1-9]|k)/.test(message)) return why('backreferences');
  if (/repetition operator: `[*+?}]\+`/.test(message)) return why('possessive quantifiers');
  return '';
}

/** A counted repetition as RE2 reads one; a `{` that starts none is a literal brace. */
const COUNTED = /^\{(\d+)(?:(,)(\d*))?\}/;

/** One group being read: the alternatives finished, the sequence being read, and the size of its last item. */
interface Group {
  readonly capture: boolean;
  alternatives: number;
  finished: number;
  sequence: number;
  last: number;
}

/** Sizes beyond this are all "too large"; capping keeps nested repetitions from reaching Infinity. */
const SIZE_CAP = 1e12;

/**
 * Estimates the number of instructions re2js compiles `source` to, the way Go's regexp/syntax does (calcSize), except
 * that a Unicode class counts UNICODE_CLASS_SIZE: a counted repetition multiplies what it repeats (`x{n,m}` is m
 * copies of x). It reads the syntax only as far as sizes need and leaves refusing bad syntax to RE2.
 */
export function patternSize(source: string): number {
  const cs = Array.from(source);
  const stack: Group[] = [];
  let group: Group = { capture: false, alternatives: 1, finished: 0, sequence: 0, last: 0 };
  const item = (size: number) => {
    group.sequence += size;
    group.last = size;
  };
  const repeat = (size: (sub: number) => number) => {
    if (group.last === 0) return; // nothing to repeat: RE2 refuses it
    const repeated = Math.min(SIZE_CAP, size(group.last));
    group.sequence += repeated - group.last;
    group.last = repeated;
    if (cs[i] === '?') i += 1; // non-greedy
  };
  const close = (g: Group) => Math.max(1, g.finished + g.sequence + (g.alternatives - 1) + (g.capture ? 2 : 0));
  let i = 0;
  while (i < cs.length) {
    const c = cs[i++]!;
    switch (c) {
      case '\\':
        i = escape(cs, i, item);
        break;
      case '[':
        i = charClass(cs, i, item);
        break;
      case '(': {
        let capture = true;
        if (cs[i] === '?') {
          const named = cs[i + 1] === 'P' ? i + 2 : cs[i + 1] === '<' && cs[i + 2] !== '=' && cs[i + 2] !== '!' ? i + 1 : -1;
          const end = named >= 0 ? cs.indexOf('>', named) : -1;
          // Only a name RE2 accepts is skipped: `(?P<\pL{1000}…>` must not hide what it holds.
          if (end >= 0 && cs.slice(named + 1, end).every((x) => /^\w$/.test(x))) {
            i = end + 1;
          } else {
            capture = false;
            let j = i + 1;
            while (j < cs.length && /[imsU-]/.test(cs[j]!)) j += 1;
            if (cs[j] === ')') {
              i = j + 1; // (?i) alone sets flags: no group
              break;
            }
            i = cs[j] === ':' ? j + 1 : i + 1;
          }
        }
        stack.push(group);
        group = { capture, alternatives: 1, finished: 0, sequence: 0, last: 0 };
        break;
      }
      case ')': {
        const outer = stack.pop();
        if (!outer) break; // unbalanced: RE2 refuses it
        const size = close(group);
        group = outer;
        item(size);
        break;
      }
      case '|':
        group.finished += group.sequence;
        group.alternatives += 1;
        group.sequence = 0;
        group.last = 0;
        break;
      case '*':
        repeat((sub) => 2 + sub);
        break;
      case '+':
      case '?':
        repeat((sub) => 1 + sub);
        break;
      case '{': {
        const m = COUNTED.exec(cs.slice(i - 1, i + 24).join(''));
        if (!m) {
          item(1);
          break;
        }
        i += m[0].length - 1;
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
        repeat((sub) => (max === -1 ? (min === 0 ? 2 + sub : 1 + min * sub) : max * sub + Math.max(0, max - min)));
        break;
      }
      default:
        item(1);
    }
  }
  let size = close(group);
  for (let outer = stack.pop(); outer; outer = stack.pop()) size = close({ ...outer, sequence: outer.sequence + size });
  return Math.min(SIZE_CAP, size);
}

/** Reads the escape after a backslash at `i` (`\pL`, `\x{41}`, `\Q…\E`, `\d`, …), giving each item its size. */
function escape(cs: readonly string[], i: number, item: (size: number) => void): number {
  const c = cs[i];
  if (c === undefined) return i;
  if (c === 'Q') {
    let j = i + 1;
    for (; j < cs.length && !(cs[j] === '\\' && cs[j + 1] === 'E'); j += 1) item(1);
    return Math.min(cs.length, j + 2);
  }
  if (c === 'p' || c === 'P' || c === 'x') {
    item(c === 'x' ? 1 : UNICODE_CLASS_SIZE);
    const end = cs[i + 1] === '{' ? cs.indexOf('}', i + 1) : -1;
    return end >= 0 ? end + 1 : i + (c === 'x' ? 3 : 2);
  }
  item(1);
  return i + 1;
}

/** Explicit ranges that count as one more instruction in a bracketed class: re2js copies every range per copy. */
const CLASS_ITEMS_PER_INSTRUCTION = 16;

/**
 * Reads a bracketed class from just after its `[`: one instruction, heavier for every CLASS_ITEMS_PER_INSTRUCTION
 * items it lists, and UNICODE_CLASS_SIZE if it holds a Unicode class (`[\pL\pN]` merges into one class).
 */
function charClass(cs: readonly string[], i: number, item: (size: number) => void): number {
  let j = cs[i] === '^' ? i + 1 : i;
  if (cs[j] === ']') j += 1; // a leading ] is literal
  let unicode = false;
  let items = 0;
  while (j < cs.length && cs[j] !== ']') {
    items += 1;
    if (cs[j] === '[' && cs[j + 1] === ':') {
      const end = cs.indexOf(']', j + 2);
      j = end >= 0 && cs[end - 1] === ':' ? end + 1 : j + 1;
    } else if (cs[j] === '\\') {
      const c = cs[j + 1];
      if (c === 'p' || c === 'P') unicode = true;
      const end = (c === 'p' || c === 'P' || c === 'x') && cs[j + 2] === '{' ? cs.indexOf('}', j + 2) : -1;
      j = end >= 0 ? end + 1 : c === 'p' || c === 'P' ? j + 3 : j + 2;
    } else {
      j += 1;
    }
  }
  const listed = 1 + Math.floor(items / CLASS_ITEMS_PER_INSTRUCTION);
  item(unicode ? Math.max(UNICODE_CLASS_SIZE, listed) : listed);
  return j + 1;
}

/**
 * Why `source` would compile to too large a program, or null: re2js refuses only past 1.4 million instructions, and
 * compiles each one synchronously, so `\pL{1000}` written out to 1000 characters blocked a process for seconds.
 */
export function sizeProblem(source: string): string | null {
  const size = patternSize(source);
  if (size <= PATTERN_LIMITS.maxSize) return null;
  const about = size >= SIZE_CAP ? `more than ${SIZE_CAP}` : `about ${size}`;
  return (
    `the regex is too complex: it expands to ${about} instructions; at most ${PATTERN_LIMITS.maxSize} are allowed ` +
    `(x{n} counts as n copies of x, a Unicode class such as \\pL as ${UNICODE_CLASS_SIZE})`
  );
}

function build(source: string): CompiledPattern {
  const length = Array.from(source).length;
  if (length > PATTERN_LIMITS.maxLength) {
    return { ok: false, error: `the regex is ${length} characters long; at most ${PATTERN_LIMITS.maxLength} are allowed` };
  }
  const problem = sizeProblem(source);
  if (problem) return { ok: false, error: problem };
  let re: RE2JS;
  try {
    // The pattern must stand on its own, so `a)|(b` cannot escape the anchors the way it would by concatenation.
    RE2JS.compile(source);
    re = RE2JS.compile(`^(?:${source})$`);
  } catch (err) {
    return { ok: false, error: `${(err as Error).message}${hint((err as Error).message)}` };
  }
  return { ok: true, pattern: Object.freeze({ source, test: remembered((value: string) => re.testExact(value)) }) };
}

/** A pattern remembers its answers for at most this many values at a time, each at most MEMO_VALUE_MAX units long. */
const MEMO_MAX = 64;
const MEMO_VALUE_MAX = 128;

/**
 * `test` answering again from what it answered before: rules match the same few label values (teams, services,
 * severities) at every decision, and re2js runs its machine for each (about a microsecond, allocating). An answer
 * depends only on the value, so remembering it changes nothing. The values remembered are emptied when MEMO_MAX are
 * held; a pattern that found fewer answers again than it had to work out before that (a label of many values, such
 * as an instance) stops remembering, so it neither holds values nor pays for the look-ups.
 */
function remembered(test: (value: string) => boolean): (value: string) => boolean {
  const memo = new Map<string, boolean>();
  let hits = 0;
  let misses = 0;
  let on = true;
  return (value) => {
    if (!on || value.length > MEMO_VALUE_MAX) return test(value);
    const known = memo.get(value);
    if (known !== undefined) {
      hits += 1;
      return known;
    }
    const answer = test(value);
    misses += 1;
    if (memo.size >= MEMO_MAX) {
      memo.clear();
      if (hits < misses) {
        on = false;
        return answer;
      }
      hits = 0;
      misses = 0;
    }
    memo.set(value, answer);
    return answer;
  };
}

/**
 * Compiles `source` as a fully anchored RE2 regex (Go syntax: no backreferences, no lookaround), or says
 * why it cannot. Compiled patterns are cached, so the same pattern in many rules or silences compiles once.
 */
export function compilePattern(source: string): CompiledPattern {
  const hit = cache.get(source);
  if (hit) {
    // Most recently used last: the first key is the one to evict.
    cache.delete(source);
    cache.set(source, hit);
    return { ok: true, pattern: hit };
  }
  const built = build(source);
  if (built.ok) {
    cache.set(source, built.pattern);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  return built;
}
