import { utf8Bytes } from './utf8-slab';

describe('utf8Bytes', () => {
  it("gives Buffer.from's bytes for any text, and a value keeps its bytes while later ones are written", () => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n;
    // ASCII, two- and three-byte characters, a surrogate pair (four bytes), lone surrogates (written as U+FFFD).
    const pieces = ['a', '{"k":"v"}', 'é', '€', '🌩️', '\ud83d', '\udca9', '\u0000', '"\\n'];
    const made: Array<{ text: string; bytes: Buffer }> = [];
    for (let i = 0; i < 2_000; i++) {
      // Now and then longer than a slab, so a value also starts a slab of its own.
      const n = i % 500 === 0 ? 100_000 + rand(200_000) : rand(3_000);
      let text = '';
      while (text.length < n) text += pieces[rand(pieces.length)];
      const bytes = utf8Bytes(text);
      expect(bytes.equals(Buffer.from(text))).toBe(true);
      made.push({ text, bytes });
    }
    expect(utf8Bytes('').length).toBe(0);
    for (const { text, bytes } of made) expect(bytes.equals(Buffer.from(text))).toBe(true);
  });
});
