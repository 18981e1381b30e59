/** Who may call what: the access decision as a table of (route needs, token presented, exposure) → answer. */
import { TokenRegistry, decide, isLoopback, readsOpen, type Access, type Presented } from './access';

const registry = new TokenRegistry([
  { name: 'grafana', role: 'viewer', token: 'viewer-token-000000000001' },
  { name: 'alice', role: 'operator', token: 'operator-token-0000000001' },
  { name: 'root', role: 'admin', token: 'admin-token-0000000000001' },
]);
const bearer = (token: string) => registry.present(`Bearer ${token}`);
const viewer = bearer('viewer-token-000000000001');
const operator = bearer('operator-token-0000000001');
const admin = bearer('admin-token-0000000000001');
const none: Presented = { kind: 'none' };
const unknown = bearer('not-a-configured-token-123');

const route = 'POST /api/silences';
const loopback = { readsOpen: true, configured: true, route };
const exposed = { readsOpen: false, configured: true, route };

describe('TokenRegistry', () => {
  it('names the holder of a known token, and nobody for any other', () => {
    expect(operator).toEqual({ kind: 'token', principal: { name: 'alice', role: 'operator' } });
    expect(unknown).toEqual({ kind: 'token', principal: null });
    expect(bearer('operator-token-000000000')).toEqual({ kind: 'token', principal: null }); // a prefix is not the token
    expect(registry.present('bearer   operator-token-0000000001 ')).toEqual(operator); // scheme is case-insensitive
  });

  it('tells an absent header from one that is not a bearer token', () => {
    expect(registry.present(undefined)).toEqual({ kind: 'none' });
    expect(registry.present('')).toEqual({ kind: 'none' });
    expect(registry.present('Basic YWxpY2U6c2VjcmV0')).toEqual({ kind: 'malformed' });
    expect(registry.present('Bearer a b')).toEqual({ kind: 'malformed' });
    expect(registry.present(['Bearer x', 'Bearer y'])).toEqual({ kind: 'malformed' });
  });
});

describe('decide', () => {
  it.each<[string, Access, Presented, typeof loopback, number | 'ok', string | null]>([
    ['a write without a token', 'operator', none, loopback, 401, null],
    ['a write with an unknown token', 'operator', unknown, loopback, 401, null],
    ['a write by a viewer', 'operator', viewer, loopback, 403, null],
    ['a write by an operator', 'operator', operator, loopback, 'ok', 'alice'],
    ['a write by an admin', 'operator', admin, loopback, 'ok', 'root'],
    ['an admin route by an operator', 'admin', operator, loopback, 403, null],
    ['a read on loopback without a token', 'read', none, loopback, 'ok', null],
    ['a read on loopback with a token (who it is still counts)', 'read', admin, loopback, 'ok', 'root'],
    ['a read on loopback with an unknown token', 'read', unknown, loopback, 401, null],
    ['a read off loopback without a token', 'read', none, exposed, 401, null],
    ['a read off loopback by a viewer', 'read', viewer, exposed, 'ok', 'grafana'],
    ['a public route off loopback, any header', 'public', unknown, exposed, 'ok', null],
    ['a malformed header', 'read', { kind: 'malformed' }, loopback, 401, null],
  ])('%s', (_what, access, presented, ctx, expected, who) => {
    const d = decide(access, presented, ctx);
    if (expected === 'ok') {
      expect(d).toEqual({ ok: true, principal: who === null ? null : expect.objectContaining({ name: who }) });
    } else {
      expect(d).toMatchObject({ ok: false, status: expected, error: expected === 401 ? 'unauthorized' : 'forbidden' });
    }
  });

  it('says what is missing, in words a caller can act on', () => {
    expect(decide('operator', none, loopback)).toMatchObject({
      message: 'POST /api/silences needs a token with role operator or higher: send "Authorization: Bearer <token>"',
      challenge: 'Bearer realm="alertbus-history"',
    });
    expect(decide('operator', unknown, loopback)).toMatchObject({
      message: 'the bearer token is not one of the tokens in HISTORY_API_TOKENS',
      challenge: 'Bearer realm="alertbus-history", error="invalid_token"',
    });
    expect(decide('operator', viewer, loopback)).toMatchObject({
      message: 'the token of "grafana" has role viewer; POST /api/silences needs role operator or higher',
    });
    expect(decide('admin', operator, loopback)).toMatchObject({ message: expect.stringMatching(/needs role admin$/) });
  });

  it('with no tokens configured, writes are refused and the answer says to configure them', () => {
    const unconfigured = { ...loopback, configured: false };
    for (const presented of [none, unknown]) {
      expect(decide('operator', presented, unconfigured)).toMatchObject({
        ok: false,
        status: 401,
        message: expect.stringContaining('has no tokens configured: set HISTORY_API_TOKENS=NAME:ROLE:TOKEN'),
      });
    }
    expect(decide('read', none, unconfigured)).toEqual({ ok: true, principal: null });
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.5', false],
    ['192.168.1.10', false],
    ['history.internal', false],
    ['127.0.0.1.nip.io', false],
  ])('%s → %s', (host, expected) => expect(isLoopback(host)).toBe(expected));
});

describe('readsOpen', () => {
  it('reads need no token only on loopback with no tokens configured: behind a reverse proxy on loopback, every request comes from 127.0.0.1', () => {
    expect(readsOpen('127.0.0.1', false)).toBe(true);
    expect(readsOpen('127.0.0.1', true)).toBe(false);
    expect(readsOpen('0.0.0.0', true)).toBe(false);
    expect(readsOpen('0.0.0.0', false)).toBe(false);
  });
});
