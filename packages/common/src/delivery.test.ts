import { classifyStatus, parseRetryAfter } from './delivery';

describe('classifyStatus: what every sink retries and what it gives up on', () => {
  test.each([
    [200, 'ok'],
    [202, 'ok'],
    [408, 'retry'], // a proxy or load balancer timed the request out: not processed, send it again
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [400, 'permanent'],
    [401, 'permanent'],
    [403, 'permanent'],
    [404, 'permanent'],
    [422, 'permanent'],
  ] as const)('HTTP %i → %s', (status, expected) => {
    expect(classifyStatus(status)).toBe(expected);
  });
});

describe('parseRetryAfter', () => {
  test('seconds, an HTTP date, and nothing usable', () => {
    const now = Date.parse('2026-12-05T12:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(2, now)).toBe(2000);
    expect(parseRetryAfter('Sat, 05 Dec 2026 12:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Sat, 05 Dec 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
