/** What makes two requests with one Idempotency-Key the same request. */
import { BAD_KEY, bodyDigest, idempotencyKeyOf } from './idempotency';

describe('bodyDigest', () => {
  it('is the same whatever the order of the fields, at any depth', () => {
    expect(bodyDigest({ matchers: ['a="1"'], duration: '1h', comment: 'c' })).toBe(bodyDigest({ comment: 'c', duration: '1h', matchers: ['a="1"'] }));
  });

  it.each([
    [{ matchers: ['a="1"', 'b="2"'] }, { matchers: ['b="2"', 'a="1"'] }],
    [{ duration: '1h' }, { duration: '60m' }],
    [{ comment: 'c' }, { comment: 'c', allowAll: false }],
  ])('tells %j from %j (a retry sends what it sent)', (a, b) => {
    expect(bodyDigest(a)).not.toBe(bodyDigest(b));
  });
});

describe('idempotencyKeyOf', () => {
  it.each([
    [undefined, { ok: true, key: undefined }],
    ['', { ok: true, key: undefined }],
    ['3f1c1a8e-4e0b-4b8e-9f55-0a1b2c3d4e5f', { ok: true, key: '3f1c1a8e-4e0b-4b8e-9f55-0a1b2c3d4e5f' }],
    ['x'.repeat(200), { ok: true, key: 'x'.repeat(200) }],
    ['x'.repeat(201), { ok: false, error: BAD_KEY }],
    ['a b', { ok: false, error: BAD_KEY }],
    [['a', 'b'], { ok: false, error: BAD_KEY }],
  ])('%j → %j', (header, expected) => {
    expect(idempotencyKeyOf(header)).toEqual(expected);
  });
});
