import { randomBytes } from 'node:crypto';
import { decryptToken, encryptToken, parseTokenKey, TokenKeyError } from './token-cipher';

const key = randomBytes(32);

test('SLACK_TOKEN_KEY is 32 bytes as hex or base64; anything else is refused without repeating it', () => {
  expect(parseTokenKey(key.toString('hex'))).toEqual(key);
  expect(parseTokenKey(key.toString('base64'))).toEqual(key);
  expect(parseTokenKey(key.toString('base64url'))).toEqual(key);
  for (const bad of ['short', randomBytes(16).toString('base64'), randomBytes(31).toString('hex'), 'x'.repeat(44)]) {
    expect(() => parseTokenKey(bad)).toThrow(TokenKeyError);
    try {
      parseTokenKey(bad);
    } catch (err) {
      expect((err as Error).message).not.toContain(bad);
    }
  }
});

test('a sealed token is not readable, differs each time, and opens only with the same key and team', () => {
  const token = 'xoxb-1234-5678-abcdefghijkl';
  const a = encryptToken(key, 'T1', token);
  const b = encryptToken(key, 'T1', token);
  expect(a).not.toContain(token);
  expect(a).not.toBe(b);
  expect(decryptToken(key, 'T1', a)).toBe(token);
  expect(() => decryptToken(key, 'T2', a)).toThrow(/does not decrypt/);
  expect(() => decryptToken(randomBytes(32), 'T1', a)).toThrow(/does not decrypt/);
  const [v, iv, tag, ct] = a.split('.');
  const flipped = Buffer.from(ct!, 'base64url');
  flipped[0] ^= 1;
  expect(() => decryptToken(key, 'T1', [v, iv, tag, flipped.toString('base64url')].join('.'))).toThrow(/does not decrypt/);
  expect(() => decryptToken(key, 'T1', 'plain')).toThrow(/not in a known format/);
});
