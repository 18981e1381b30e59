/**
 * Regexes from users and config files, compiled with RE2 (re2js): the engine family of Alertmanager's Go
 * `regexp`, so patterns mean what they mean there, and matching takes time linear in the input whatever
 * the pattern — no pattern can stall the router, so none has to be refused for how it might backtrack.
 */
import { RE2JS } from 're2js';

/** Bounds on one regex and on how many a rule may hold; the rules check and the silence API enforce them. */
export const PATTERN_LIMITS = {
  /** Longest regex of one matcher, in code points. */
  maxLength: 1000,
  /** Most regex matchers (`=~`, `!~`) in one list: a rule's `match`, an inhibit rule's side, one silence. */
  maxPerList: 20,
} as const;

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

function build(source: string): CompiledPattern {
  const length = Array.from(source).length;
  if (length > PATTERN_LIMITS.maxLength) {
    return { ok: false, error: `the regex is ${length} characters long; at most ${PATTERN_LIMITS.maxLength} are allowed` };
  }
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
