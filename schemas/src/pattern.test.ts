/**
 * Matchers' regexes mean what they mean in Alertmanager (Go's RE2 syntax, fully anchored), are refused with
 * RE2's own message when RE2 cannot run them, and match in time linear in the value, whatever the pattern.
 */
import { matches, parseMatcher, regexCountProblem, type Matcher } from './matcher';
import { compilePattern, PATTERN_LIMITS, UNICODE_CLASS_SIZE } from './pattern';

const matcher = (text: string): Matcher => {
  const p = parseMatcher(text);
  if (!p.ok) throw new Error(p.error);
  return p.matcher;
};

describe('RE2 semantics, as in Alertmanager', () => {
  test.each<[pattern: string, value: string, matched: boolean]>([
    ['crit', 'critical', false], // fully anchored
    ['crit.*', 'critical', true],
    ['a|ab', 'ab', true], // the anchors apply to the whole alternation
    ['(?i)critical', 'CRITICAL', true], // inline flags (JavaScript's RegExp has none)
    ['(?i:db)-primary', 'DB-primary', true],
    [String.raw`\d+`, '42', true],
    [String.raw`\d+`, '٤٢', false], // \d, \w and \s are ASCII-only in RE2
    [String.raw`\w+`, 'café', false],
    [String.raw`\s`, '\u00a0', false],
    ['.*', 'two\nlines', false], // . does not match a newline…
    ['(?s).*', 'two\nlines', true], // …unless (?s)
    ['[[:alpha:]]+', 'db', true], // POSIX classes
    [String.raw`\p{Greek}+`, 'αβγ', true], // Unicode classes
    [String.raw`\QA.B\E`, 'A.B', true], // quoted literal
    [String.raw`\QA.B\E`, 'AxB', false],
    [String.raw`\x{41}`, 'A', true],
    ['.', '😀', true], // one code point, not one UTF-16 unit
    ['^db$', 'db', true], // anchors inside the pattern are harmless
    ['', '', true],
    ['', 'x', false],
  ])('%j on %j → %s', (pattern, value, matched) => {
    const compiled = compilePattern(pattern);
    if (!compiled.ok) throw new Error(compiled.error);
    expect(compiled.pattern.test(value)).toBe(matched);
  });

  test.each<[pattern: string, error: RegExp]>([
    ['(?=a)b', /^error parsing regexp: invalid or unsupported Perl syntax: `\(\?=` \(lookahead and lookbehind are not supported: patterns use RE2 syntax, as in Alertmanager\)$/],
    ['(?!a)b', /invalid or unsupported Perl syntax: `\(\?!` \(lookahead and lookbehind are not supported/],
    ['(?<=a)b', /lookahead and lookbehind are not supported/],
    ['(?<!a)b', /lookahead and lookbehind are not supported/],
    [String.raw`(a)\1`, /^error parsing regexp: invalid escape sequence: `\\1` \(backreferences are not supported/],
    [String.raw`(?<x>a)\k<x>`, /backreferences are not supported/],
    ['a++', /invalid nested repetition operator: `\+\+` \(possessive quantifiers are not supported/],
    ['a{1001}', /^error parsing regexp: invalid repeat count: `\{1001\}`$/],
    [String.raw`\Z`, /^error parsing regexp: invalid escape sequence: `\\Z`$/],
    ['api(|', /^error parsing regexp: missing closing \): `api\(\|`$/],
    // Concatenated into ^(?:…)$ this would parse and match "a…" anywhere; it must stand on its own.
    ['a)|(b', /^error parsing regexp: unexpected \): `a\)\|\(b`$/],
  ])('%j is refused: %s', (pattern, error) => {
    expect(compilePattern(pattern)).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  test('each pattern compiles once: the same source gives the same compiled pattern', () => {
    const a = compilePattern('db-.*');
    const b = compilePattern('db-.*');
    expect(a.ok && b.ok && a.pattern === b.pattern).toBe(true);
    if (a.ok) expect(Object.isFrozen(a.pattern)).toBe(true);
  });
});

describe("matcher values are unquoted as Alertmanager does (OpenMetrics escapes; other backslashes stay)", () => {
  test.each<[text: string, labels: Record<string, string>, matched: boolean]>([
    [String.raw`host=~"db\.example"`, { host: 'db.example' }, true],
    [String.raw`host=~"db\.example"`, { host: 'dbxexample' }, false], // \. stays an escaped dot
    [String.raw`port=~"\d+"`, { port: '8080' }, true], // \d stays a digit class
    [String.raw`word=~"\bdisk\b.*"`, { word: 'disk full' }, true], // \b stays a word boundary, not a backspace
    [String.raw`path="C:\temp"`, { path: String.raw`C:\temp` }, true], // \t is not a tab here
    [String.raw`msg="say \"hi\""`, { msg: 'say "hi"' }, true],
    [String.raw`msg="two\nlines"`, { msg: 'two\nlines' }, true],
    [String.raw`msg="back\\slash"`, { msg: String.raw`back\slash` }, true],
  ])('%s on %j → %s', (text, labels, matched) => {
    expect(matches(matcher(text), labels)).toBe(matched);
  });
});

describe('limits', () => {
  test(`a regex of ${PATTERN_LIMITS.maxLength} characters compiles; one more is refused, saying so`, () => {
    expect(compilePattern('a'.repeat(PATTERN_LIMITS.maxLength)).ok).toBe(true);
    expect(compilePattern('é'.repeat(PATTERN_LIMITS.maxLength)).ok).toBe(true); // code points, not bytes
    expect(compilePattern('a'.repeat(PATTERN_LIMITS.maxLength + 1))).toEqual({
      ok: false,
      error: `the regex is ${PATTERN_LIMITS.maxLength + 1} characters long; at most ${PATTERN_LIMITS.maxLength} are allowed`,
    });
  });

  test('an error quotes a long matcher only in part', () => {
    const p = parseMatcher(`host=~"${'a'.repeat(5000)}"`);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.error.length).toBeLessThan(400);
  });

  test(`at most ${PATTERN_LIMITS.maxPerList} regex matchers in one list; equality matchers do not count`, () => {
    const regexes = (n: number) => Array.from({ length: n }, (_, i) => matcher(`l${i}=~"v.*"`));
    const equals = Array.from({ length: 30 }, (_, i) => matcher(`e${i}="v"`));
    expect(regexCountProblem([...regexes(PATTERN_LIMITS.maxPerList), ...equals])).toBeNull();
    expect(regexCountProblem(regexes(PATTERN_LIMITS.maxPerList + 1))).toBe(
      `${PATTERN_LIMITS.maxPerList + 1} regex matchers (=~, !~) in one list; at most ${PATTERN_LIMITS.maxPerList} are allowed`,
    );
  });
});

describe('compiled size: a pattern that would compile to too large a program is refused before re2js compiles it', () => {
  const tooComplex = (about: string) =>
    `the regex is too complex: it expands to ${about} instructions; at most ${PATTERN_LIMITS.maxSize} are allowed ` +
    `(x{n} counts as n copies of x, a Unicode class such as \\pL as ${UNICODE_CLASS_SIZE})`;

  test('the audit\'s pattern (\\pL{1000} written out to 1000 characters, seconds to compile) is refused at once, saying why', () => {
    const audit = String.raw`\pL{1000}`.repeat(111);
    const started = process.hrtime.bigint();
    expect(compilePattern(audit)).toEqual({ ok: false, error: tooComplex('about 2220000') });
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
    // As a silence matcher (the slash command and the silence API parse them so), with the matcher named.
    const p = parseMatcher(`host=~"${audit}x"`);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.error).toMatch(/^bad regex in matcher "host=~.*…": the regex is too complex: it expands to about 2220001 instructions;/);
  });

  test.each<[pattern: string, about: string]>([
    [String.raw`\pL{1000}`, 'about 20000'],
    [String.raw`\pL{101}`, 'about 2020'], // one Unicode class too many
    [String.raw`(?:\pL|x){1000}`, 'about 22000'],
    [String.raw`[\pL\pN]{101}`, 'about 2020'],
    [String.raw`(?i:\p{Greek}){101}`, 'about 2020'],
    [String.raw`(?P<host>\pL{101})`, 'about 2022'], // a named group's content counts too
    [String.raw`\PL{0,100}`, 'about 2100'],
    ['.{1000}.{1000}x', 'about 2001'],
    ['a{1000}a{1000}a', 'about 2001'],
    ['(?:[a-z]+\\.){1000}', 'about 3000'],
    ['((((((((a{1000}){1000}){1000}){1000}){1000}){1000}){1000}){1000})', 'more than 1000000000000'],
    [`[${'ĀāĂăĄąĆćĈĉĊċČčĎď'.repeat(4)}]{1000}`, 'about 5000'], // a long class costs more per copy
  ])('%j is refused: %s instructions', (pattern, about) => {
    expect(compilePattern(pattern)).toEqual({ ok: false, error: tooComplex(about) });
  });

  test.each([
    'a{1000}a{1000}', // exactly the limit
    '.{0,1000}', // the largest single repetition RE2 allows
    String.raw`\pL{100}`,
    String.raw`\pL{1,40}`,
    String.raw`[\pL\pN_-]{0,39}`,
    '[0-9a-f]{64}',
    String.raw`(?:[a-z0-9-]{1,63}\.){1,5}[a-z]{2,}`,
    String.raw`\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}`,
    '(?P<name>[a-z]{1,100})-(?:prod|staging){1,3}',
    String.raw`\Q{1000}\E{2}`, // braces quoted are literals
    'a{,1000}', // not a repetition in RE2: a literal brace
  ])('%j compiles', (pattern) => {
    const compiled = compilePattern(pattern);
    expect(compiled.ok ? 'ok' : compiled.error).toBe('ok');
  });

  test(`a pattern of ${PATTERN_LIMITS.maxLength} characters without counted repetitions or Unicode classes compiles`, () => {
    for (const pattern of ['a*'.repeat(500), '(a)'.repeat(333), 'a|'.repeat(499) + 'a', '[a-z]?'.repeat(166)]) {
      const compiled = compilePattern(pattern);
      expect(compiled.ok ? 'ok' : compiled.error).toBe('ok');
    }
  });

  test('the largest accepted programs compile in milliseconds, not seconds', () => {
    // Measured about 15 ms each at most on the development machine; the bound only separates that from seconds.
    for (const pattern of ['a{1000}a{1000}', String.raw`(?:\pL?){95}`, String.raw`(?i:\pL){100}`, '(a){666}', String.raw`[[:alpha:]]{1000}[[:alpha:]]{1000}`]) {
      const started = process.hrtime.bigint();
      const compiled = compilePattern(pattern);
      expect(compiled.ok && compiled.pattern.test('prod-db-01.example.com')).toBe(false);
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1_000);
    }
  });
});

describe('linear time: patterns that make a backtracking engine run for hours are decided at once', () => {
  // With JavaScript's RegExp each of these takes about 2^40 steps (hours); RE2 never backtracks. The bound
  // only has to separate "finished" from "stuck": it is thousands of times the usual figure (see npm run bench).
  const GENEROUS_MS = 2_000;
  test.each<[pattern: string, length: number, tail: string]>([
    ['(a|a)*b', 40, ''],
    ['(a+)+b', 40, ''],
    ['(a|aa)*c', 40, ''],
    ['(.*a){20}', 40, 'b'],
    ['(a|a)*b', 4_000, ''],
  ])('%j against %i a\'s', (pattern, length, tail) => {
    const value = 'a'.repeat(length) + tail;
    const m = matcher(`host=~"${pattern}"`);
    const started = process.hrtime.bigint();
    expect(matches(m, { host: value })).toBe(false);
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(GENEROUS_MS);
  });
});

describe('answers remembered per pattern', () => {
  const compiled = (source: string) => {
    const c = compilePattern(source);
    if (!c.ok) throw new Error(c.error);
    return c.pattern;
  };

  it('gives each pattern its own answer for the same value, again and again', () => {
    const t1 = compiled('t1.*');
    const t2 = compiled('t[2-9]');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) {
        expect(t1.test(`t${i}`)).toBe(/^t1.*$/.test(`t${i}`));
        expect(t2.test(`t${i}`)).toBe(/^t[2-9]$/.test(`t${i}`));
      }
    }
  });

  it('answers right past the values it holds, and for values of many kinds (a label like an instance)', () => {
    const few = compiled('team-(a|b)[0-9]');
    const many = compiled('host-[0-9]*7');
    const values = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
    // Few values, asked many times: held and answered again; many values: more than are held, each asked about twice.
    for (let round = 0; round < 5; round++) for (const v of [...values(30, 'team-a'), ...values(30, 'team-c')]) expect(few.test(v)).toBe(/^team-(a|b)[0-9]$/.test(v));
    for (let round = 0; round < 2; round++) for (const v of values(1_000, 'host-')) expect(many.test(v)).toBe(/^host-[0-9]*7$/.test(v));
    // After the many: still right for values seen before it stopped remembering and for new ones.
    for (const v of [...values(100, 'host-'), ...values(100, 'host-x')]) expect(many.test(v)).toBe(/^host-[0-9]*7$/.test(v));
    expect(few.test('team-b5')).toBe(true);
    expect(few.test(`team-b5${'x'.repeat(200)}`)).toBe(false);
  });
});
