/**
 * Bearer tokens with roles on every route. A route says what it needs in `config.access`; without it, GET and
 * HEAD are reads and every other method needs `operator`, so a write added later is protected by default.
 */
import type { FastifyInstance, FastifyRequest, FastifySchema, RouteOptions } from 'fastify';
import { TokenRegistry, decide, type Access, type Principal } from '../auth/access';
import type { ApiToken } from '../auth/tokens';
import type { Reader } from './redact';
import { ErrorBody } from './schemas';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The token's holder, or null for a read without a token (allowed on loopback only). */
    principal: Principal | null;
  }
}

export interface AuthOptions {
  tokens: readonly ApiToken[];
  /** Whether reads need no token: true only when history listens on a loopback address. */
  readsOpen: boolean;
}

/** The probes and the API documentation are open wherever history listens: they hold no data. */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const isPublicPath = (url: string) => PUBLIC_PATHS.has(url) || url === '/docs' || url.startsWith('/docs/');

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export function defaultAccess(method: string | string[], url: string): Access {
  if (isPublicPath(url)) return 'public';
  const methods = Array.isArray(method) ? method : [method];
  return methods.every((m) => SAFE_METHODS.has(m.toUpperCase())) ? 'read' : 'operator';
}

export const SECURITY_SCHEME = 'bearerAuth';

/** Raw payloads and response URLs are shown to admins only. */
export const readerOf = (req: FastifyRequest): Reader => ({ admin: req.principal?.role === 'admin' });

/** Register before any route: the onRoute hook only sees routes declared after it. */
export function registerAuth(app: FastifyInstance, opts: AuthOptions): void {
  const registry = new TokenRegistry(opts.tokens);
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route: RouteOptions) => {
    const access = route.config?.access ?? defaultAccess(route.method, route.url);
    route.config = { ...route.config, access };
    if (access !== 'public' && route.schema && !(route.schema as { hide?: boolean }).hide) {
      route.schema = documented(route.schema, access, opts.readsOpen);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    const access = req.routeOptions.config?.access;
    if (access === undefined) return; // no route matched: the 404 tells nothing
    const decision = decide(access, registry.present(req.headers.authorization), {
      readsOpen: opts.readsOpen,
      configured: registry.size > 0,
      route: `${req.method} ${req.routeOptions.url ?? ''}`,
    });
    if (decision.ok) {
      req.principal = decision.principal;
      return;
    }
    if (decision.challenge) void reply.header('www-authenticate', decision.challenge);
    return reply.code(decision.status).send({ error: decision.error, message: decision.message });
  });
}

/** The route's OpenAPI entry says which token it needs and that it may answer 401 and 403. */
function documented(schema: FastifySchema, access: Exclude<Access, 'public'>, readsOpen: boolean): FastifySchema {
  const s = schema as FastifySchema & { description?: string; security?: unknown; response?: Record<string, unknown> };
  const optional = access === 'read' && readsOpen;
  const role = access === 'read' ? 'viewer' : access;
  const note = optional
    ? 'Open without a token while history listens on loopback; otherwise needs a token with role viewer or higher.'
    : `Needs a token with role ${role}${role === 'admin' ? '' : ' or higher'}.`;
  return {
    ...s,
    description: s.description ? `${s.description}\n\n${note}` : note,
    security: optional ? [{}, { [SECURITY_SCHEME]: [] }] : [{ [SECURITY_SCHEME]: [] }],
    response: { ...(s.response ?? {}), 401: ErrorBody, 403: ErrorBody },
  } as FastifySchema;
}
