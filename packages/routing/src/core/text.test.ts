import { codePoints, truncate } from './text';

describe('truncate: at most max code points, never inside a character a reader sees as one', () => {
  const family = '👨‍👩‍👧‍👦';

  test('a cut that would fall inside an emoji sequence or a flag keeps none of it', () => {
    const cut = truncate(`${'a'.repeat(125)}${family}bbbbbbb`, 130);
    expect(cut).toBe(`${'a'.repeat(125)}…`);
    expect(truncate(`${'a'.repeat(127)}🇩🇪🇫🇷`, 130)).toBe(`${'a'.repeat(127)}🇩🇪…`);
    expect(truncate(`${'a'.repeat(128)}🇩🇪🇫🇷`, 130)).toBe(`${'a'.repeat(128)}…`);
  });

  test('plain text: max - 1 code points and the ellipsis; short text as it is', () => {
    expect(truncate('x'.repeat(200), 130)).toBe(`${'x'.repeat(129)}…`);
    expect(truncate('short', 130)).toBe('short');
    expect(codePoints(truncate('😀'.repeat(200), 130))).toBe(130);
  });
});
