import { randomBytes } from 'node:crypto';
import { OAUTH_STATE_TTL_MS, OAuthState } from './oauth-state';

const states = new OAuthState(randomBytes(32));
const t0 = Date.parse('2026-11-30T06:00:00Z');

test('a state is accepted with its own cookie, before it expires', () => {
  const { state, nonce } = states.issue(t0);
  expect(states.check(state, nonce, t0 + 1000)).toEqual({ ok: true });
});

test('missing → 400; forged, from another key, expired or with another browser\'s cookie → 403', () => {
  const { state, nonce } = states.issue(t0);
  const other = states.issue(t0);
  expect(states.check(undefined, nonce, t0)).toMatchObject({ ok: false, status: 400 });
  expect(states.check(`${state}x`, nonce, t0)).toMatchObject({ ok: false, status: 403 });
  expect(new OAuthState(randomBytes(32)).check(state, nonce, t0)).toMatchObject({ ok: false, status: 403 });
  expect(states.check(state, nonce, t0 + OAUTH_STATE_TTL_MS + 1)).toMatchObject({ ok: false, status: 403, reason: expect.stringMatching(/expired/) });
  expect(states.check(state, other.nonce, t0)).toMatchObject({ ok: false, status: 403, reason: expect.stringMatching(/another browser/) });
  expect(states.check(state, undefined, t0)).toMatchObject({ ok: false, status: 403 });
  // The expiry is signed: moving it later breaks the signature.
  const [n, , mac] = state.split('.');
  expect(states.check(`${n}.${t0 + 10 * OAUTH_STATE_TTL_MS}.${mac}`, nonce, t0)).toMatchObject({ ok: false, status: 403 });
});
