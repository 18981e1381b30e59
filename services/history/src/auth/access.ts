/**
 * Who may call a route: the decision as a pure function of what the route needs, what the request presented
 * and how the service is exposed. The fastify wiring is in api/auth.ts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { ROLES, roleRank, type ApiToken, type Role } from './tokens';

/**
 * What a route needs: `public` (probes, docs, the page's files), `read` (open when history listens on
 * loopback, else `viewer`), or a role.
 */
export type Access = 'public' | 'read' | Role;

export interface Principal {
  name: string;
  role: Role;
}

/** What the Authorization header held. */
export type Presented = { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; principal: Principal | null };

export type Decision =
  | { ok: true; principal: Principal | null }
  | { ok: false; status: 401 | 403; error: 'unauthorized' | 'forbidden'; message: string; challenge?: string };

export interface AccessContext {
  /** Reads need no token: history listens on a loopback address only. */
  readsOpen: boolean;
  /** At least one token is configured. */
  configured: boolean;
  /** The route as the caller should read it, e.g. `POST /api/silences`. */
  route: string;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** The configured tokens, compared in constant time: every token is compared, digests of equal length. */
export class TokenRegistry {
  private readonly entries: ReadonlyArray<{ principal: Principal; digest: Buffer }>;

  constructor(tokens: readonly ApiToken[]) {
    this.entries = tokens.map((t) => ({ principal: { name: t.name, role: t.role }, digest: digest(t.token) }));
  }

  get size(): number {
    return this.entries.length;
  }

  identify(token: string): Principal | null {
    const presented = digest(token);
    let found: Principal | null = null;
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.digest)) found = e.principal;
    }
    return found;
  }

  /** Reads an Authorization header: absent, not `Bearer <token>`, or a token (known or not). */
  present(header: string | string[] | undefined): Presented {
    if (header === undefined || header === '') return { kind: 'none' };
    const match = typeof header === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (!match) return { kind: 'malformed' };
    return { kind: 'token', principal: this.identify(match[1]!) };
  }
}

const CHALLENGE = 'Bearer realm="alertbus-history"';
const atLeast = (role: Role) => (role === ROLES[ROLES.length - 1] ? `role ${role}` : `role ${role} or higher`);

export function decide(access: Access, presented: Presented, ctx: AccessContext): Decision {
  if (access === 'public') return { ok: true, principal: null };
  const needed: Role = access === 'read' ? 'viewer' : access;
  const deny401 = (message: string, invalid = false): Decision => ({
    ok: false,
    status: 401,
    error: 'unauthorized',
    message,
    challenge: invalid ? `${CHALLENGE}, error="invalid_token"` : CHALLENGE,
  });
  const unconfigured =
    `${ctx.route} needs a token with ${atLeast(needed)}, and this history service has no tokens configured: ` +
    'set HISTORY_API_TOKENS=NAME:ROLE:TOKEN,... (see the README, "History API authentication")';

  if (presented.kind === 'malformed') return deny401('the Authorization header must be "Bearer <token>"', true);
  if (presented.kind === 'token' && presented.principal === null) {
    return deny401(ctx.configured ? 'the bearer token is not one of the tokens in HISTORY_API_TOKENS' : unconfigured, true);
  }
  const principal = presented.kind === 'token' ? presented.principal : null;
  if (access === 'read' && ctx.readsOpen) return { ok: true, principal };
  if (principal === null) {
    return deny401(
      ctx.configured ? `${ctx.route} needs a token with ${atLeast(needed)}: send "Authorization: Bearer <token>"` : unconfigured,
    );
  }
  if (roleRank(principal.role) < roleRank(needed)) {
    return {
      ok: false,
      status: 403,
      error: 'forbidden',
      message: `the token of "${principal.name}" has role ${principal.role}; ${ctx.route} needs ${atLeast(needed)}`,
    };
  }
  return { ok: true, principal };
}

/** 127.0.0.0/8, ::1 and `localhost`: addresses only this machine can reach. */
/**
 * Whether reads need no token: only while history listens on loopback and has no tokens configured (a laptop, the
 * quick start). Once HISTORY_API_TOKENS is set every read needs `viewer`, wherever it listens: behind a reverse proxy
 * on loopback every request comes from 127.0.0.1, and reads were open to anyone the proxy served.
 */
export function readsOpen(host: string, tokensConfigured: boolean): boolean {
  return isLoopback(host) && !tokensConfigured;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(h);
  return false;
}
