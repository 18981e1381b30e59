import { fixtureText } from '../../../../test/support/fixtures';
import { slackSignature, verifySlackSignature } from './signature';

/** Slack's documented example (python-slack-sdk's test vector; protocols.md §1.1). */
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const body = () => Buffer.from(fixtureText('slack/slash_command_signed_body.txt'), 'utf8');
const NOW = Number(TIMESTAMP);

describe('Slack request signature (v0)', () => {
  test('reproduces the documented test vector over the raw body', () => {
    expect(slackSignature(SECRET, TIMESTAMP, body())).toBe(SIGNATURE);
    expect(verifySlackSignature(SECRET, { timestamp: TIMESTAMP, signature: SIGNATURE, rawBody: body() }, NOW)).toEqual({ ok: true });
  });

  test.each([
    ['a changed body', { rawBody: Buffer.concat([body(), Buffer.from('&x=1')]) }, 'does not match'],
    ['a trailing newline', { rawBody: Buffer.concat([body(), Buffer.from('\n')]) }, 'does not match'],
    ['another secret', { secret: 'another-secret' }, 'does not match'],
    ['a one-character change', { signature: SIGNATURE.replace(/3$/, '4') }, 'does not match'],
    ['a truncated signature', { signature: SIGNATURE.slice(0, 20) }, 'does not match'],
    ['no signature', { signature: undefined }, 'missing'],
    ['no timestamp', { timestamp: undefined }, 'missing'],
    ['a non-numeric timestamp', { timestamp: '1531420618.5' }, 'not a unix time'],
  ])('refuses %s', (_what, change, reason) => {
    const { secret = SECRET, ...req } = { timestamp: TIMESTAMP, signature: SIGNATURE, rawBody: body(), ...change } as {
      secret?: string;
      timestamp?: string;
      signature?: string;
      rawBody: Buffer;
    };
    const result = verifySlackSignature(secret, req, NOW);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });

  test('accepts timestamps within 5 minutes either way, refuses 6 minutes old or ahead', () => {
    const req = { timestamp: TIMESTAMP, signature: SIGNATURE, rawBody: body() };
    expect(verifySlackSignature(SECRET, req, NOW + 300).ok).toBe(true);
    expect(verifySlackSignature(SECRET, req, NOW - 300).ok).toBe(true);
    expect(verifySlackSignature(SECRET, req, NOW + 360)).toEqual({ ok: false, reason: expect.stringContaining('300 s') });
    expect(verifySlackSignature(SECRET, req, NOW - 360).ok).toBe(false);
  });
});
