import { keepableJson, keepableText } from './keepable-text';

describe('keepableText', () => {
  it.each([
    ['plain text', 'disk full on db-1', 'disk full on db-1', 0],
    ['tab and newline stay', 'a\tb\nc', 'a\tb\nc', 0],
    ['NUL is removed', 'disk\u0000 full', 'disk full', 1],
    ['other C0 controls, CR included, are removed', '\u0001a\u001Fb\r\n', 'ab\n', 3],
    ['DEL and C1 controls are removed', 'a\u007Fb\u0085c\u009F', 'abc', 3],
    ['a lone high surrogate becomes U+FFFD', 'x\uD800y', 'x\uFFFDy', 1],
    ['a lone low surrogate becomes U+FFFD', 'x\uDC00', 'x\uFFFD', 1],
    ['a high surrogate at the end', 'x\uDBFF', 'x\uFFFD', 1],
    ['reversed halves are two lone surrogates', '\uDC00\uD800', '\uFFFD\uFFFD', 2],
    ['a pair stays, the extra high one does not', '\uD800\uD83D\uDE00', '\uFFFD\uD83D\uDE00', 1],
    ['emoji and other scripts stay', 'Ωmega 🔥 日本', 'Ωmega 🔥 日本', 0],
  ])('%s', (_what, input, expected, changed) => {
    expect(keepableText(input)).toEqual({ value: expected, changed });
    // What comes out is stable: cleaning it again changes nothing.
    expect(keepableText(expected).changed).toBe(0);
    // ...and is well-formed UTF-16, so JSON.stringify writes no \ud800-style escapes Postgres refuses.
    expect(JSON.stringify(expected)).not.toMatch(/\\u(d[89a-f]|00[01])/i);
  });
});

describe('keepableJson', () => {
  it('returns the same value, untouched, when nothing needs cleaning', () => {
    const value = { a: ['x', 1, null, true, { b: 'y' }] };
    const kept = keepableJson(value);
    expect(kept.value).toBe(value);
    expect(kept.changed).toBe(0);
  });

  it('cleans strings at any depth and in keys, counting every character', () => {
    const value = { 'na\u0000me': ['ok', { deep: 'a\uD800b' }], n: 3 };
    expect(keepableJson(value)).toEqual({ value: { name: ['ok', { deep: 'a\uFFFDb' }], n: 3 }, changed: 2 });
    // The input is not modified.
    expect(value['na\u0000me'][1]).toEqual({ deep: 'a\uD800b' });
  });

  it('never merges two keys into one: the cleaned key that would collide gets U+FFFD appended', () => {
    const { value } = keepableJson({ team: 'a', 'te\u0000am': 'b', 'te\u0001am': 'c' });
    expect(value).toEqual({ team: 'a', 'team\uFFFD': 'b', 'team\uFFFD\uFFFD': 'c' });
  });

  it('does not let a cleaned key become __proto__', () => {
    const { value } = keepableJson(JSON.parse('{"__pro\\u0000to__": {"polluted": true}}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(value)).toEqual(['__proto__\uFFFD']);
  });
});
