/** Matchers as an SRE types them: a single-quoted value is a habit from shells and SQL, not a matcher. */
import { matches, parseMatcher } from './matcher';

describe('a single-quoted value is refused, saying how to write it', () => {
  test.each([
    ["team='db'", `bad matcher "team='db'": single quotes would be part of the value; write team=db or team="db"`],
    ["team != 'db'", `bad matcher "team != 'db'": single quotes would be part of the value; write team!=db or team!="db"`],
    ["severity=~'crit.*|page'", `bad matcher "severity=~'crit.*|page'": single quotes would be part of the value; write severity=~crit.*|page or severity=~"crit.*|page"`],
    ["team=''", `bad matcher "team=''": single quotes would be part of the value; write team=""`],
    ["team='db ops'", `bad matcher "team='db ops'": single quotes would be part of the value; write the value in double quotes, as name="value"`],
    [`"weird name"='x'`, `bad matcher "\\"weird name\\"='x'": single quotes would be part of the value; write the value in double quotes, as name="value"`],
    ["team='\u0007'", `bad matcher "team='\\u0007'": single quotes would be part of the value; write the value in double quotes, as name="value"`],
  ])('%s', (text, error) => {
    expect(parseMatcher(text)).toEqual({ ok: false, error });
  });

  test('the suggested forms parse and match the label the user meant', () => {
    for (const text of ['team=db', 'team="db"']) {
      const p = parseMatcher(text);
      if (!p.ok) throw new Error(p.error);
      expect(matches(p.matcher, { team: 'db' })).toBe(true);
    }
  });

  test('a single quote inside a value is still a character of it', () => {
    for (const [text, value] of [["name=O'Brien", "O'Brien"], [`quote="'db'"`, "'db'"], ["team='", "'"], ["team=db'", "db'"]] as const) {
      const p = parseMatcher(text);
      if (!p.ok) throw new Error(p.error);
      expect(p.matcher.value).toBe(value);
    }
  });
});

describe('a label name every JavaScript object answers to reads as that label, not as the object member', () => {
  const parsed = (text: string) => {
    const p = parseMatcher(text);
    if (!p.ok) throw new Error(p.error);
    return p.matcher;
  };
  const names = ['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__proto__'];
  const cases = names.flatMap((name) => (['=', '!=', '=~', '!~'] as const).flatMap((op) => ['', 'x', 'skip.*', '.*'].map((value) => [name, op, value] as const)));

  test.each(cases)('%s%s"%s" against labels without it: as for an absent label', (name, op, value) => {
    const absent = matches(parsed(`absent_label${op}"${value}"`), { alertname: 'x' });
    expect(matches(parsed(`${name}${op}"${value}"`), { alertname: 'x' })).toBe(absent);
  });

  test('labels that hold such a name (as JSON.parse gives them) are matched by its value', () => {
    const labels = JSON.parse('{"alertname":"x","constructor":"a","__proto__":"b","toString":"c"}') as Record<string, string>;
    expect(matches(parsed('constructor="a"'), labels)).toBe(true);
    expect(matches(parsed('constructor!="a"'), labels)).toBe(false);
    expect(matches(parsed('__proto__=~"b"'), labels)).toBe(true);
    expect(matches(parsed('toString!~"c"'), labels)).toBe(false);
  });
});
