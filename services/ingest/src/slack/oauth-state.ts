import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long an install may take between /slack/install and Slack's redirect back. */
export const OAUTH_STATE_TTL_MS = 10 * 60_000;

export type StateCheck = { ok: true } | { ok: false; status: 400 | 403; reason: string };

/**
 * The OAuth `state`: `<nonce>.<expiry ms>.<hmac>`, signed with a key derived from SLACK_TOKEN_KEY, so any
 * ingest instance can check it without shared storage. The nonce is also set in a cookie of the browser that
 * started the install, so a redirect carrying someone else's state is refused (login CSRF).
 */
export class OAuthState {
  private readonly key: Buffer;

  constructor(tokenKey: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', tokenKey, Buffer.alloc(0), 'alertbus slack oauth state', 32));
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  issue(nowMs: number): { state: string; nonce: string } {
    const nonce = randomBytes(16).toString('base64url');
    const payload = `${nonce}.${nowMs + OAUTH_STATE_TTL_MS}`;
    return { state: `${payload}.${this.mac(payload)}`, nonce };
  }

  check(state: string | undefined, cookieNonce: string | undefined, nowMs: number): StateCheck {
    if (!state) return { ok: false, status: 400, reason: 'the redirect carries no state' };
    const [nonce, expiry, mac] = state.split('.');
    if (!nonce || !expiry || !mac || !/^\d+$/.test(expiry)) return { ok: false, status: 403, reason: 'the state is not one this app issued' };
    const expected = Buffer.from(this.mac(`${nonce}.${expiry}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, status: 403, reason: 'the state is not one this app issued' };
    }
    if (Number(expiry) < nowMs) return { ok: false, status: 403, reason: 'the install took too long (state expired); start again' };
    const a = Buffer.from(nonce);
    const b = Buffer.from(cookieNonce ?? '');
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      return { ok: false, status: 403, reason: 'the install was started in another browser (state and cookie differ); start again' };
    }
    return { ok: true };
  }
}
