import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { SlackApiError, type Args } from './args';
import { METHODS } from './methods';
import { oauthAccess, registerAuthorizePage, SLACK_STAND_IN_OAUTH, type SlackOAuthOptions } from './oauth';
import { RateLimiter, type MethodRateLimit } from './rate-limit';
import { SocketModeEndpoint, type SocketEnvelope } from './socket-mode';
import {
  SlackState,
  tokenFingerprint,
  type SlackFault,
  type SlackResponsePost,
  type SlackStoredMessage,
  type SlackChannelConfig,
  type SlackUserConfig,
  type SlackUsergroupConfig,
} from './state';

export { SlackState, SLACK_STAND_IN_BOT, tokenFingerprint } from './state';
export type {
  SlackCallRecord,
  SlackChannelConfig,
  SlackEphemeralMessage,
  SlackFault,
  SlackResponsePost,
  SlackStoredMessage,
  SlackUserConfig,
  SlackUsergroupConfig,
} from './state';
export type { MethodRateLimit as SlackMethodRateLimit } from './rate-limit';
export { channelsOfRules, formatStandInChannels, parseStandInChannels, withChannels, type RulesWithChannels } from './channels';
export { SLACK_STAND_IN_OAUTH, standInTeam, type SlackOAuthOptions } from './oauth';
export { SocketModeEndpoint, type SocketAck, type SocketEnvelope } from './socket-mode';
export type { SlackTeam } from './state';

const RESPONSE_PATH = '/_stand-in/response/';
/** Answers a response_url takes (Slack: "up to 5 times within 30 minutes"). */
const RESPONSE_URL_USES = 5;

/** A response_url on the stand-in at `apiUrl` (its `/api/` URL), for a slash command or interaction a test sends. */
export function responseUrl(apiUrl: string, id: string): string {
  return `${apiUrl.replace(/\/api\/$/, '')}${RESPONSE_PATH}${encodeURIComponent(id)}`;
}

/** The token the stand-in accepts when none are configured. */
export const SLACK_STAND_IN_TOKEN = 'xoxb-stand-in';

export const DEFAULT_SLACK_CHANNELS: SlackChannelConfig[] = [
  { id: 'C0ALERTS', name: 'alerts' },
  { id: 'C0OPS', name: 'ops' },
];

/**
 * The users `npm start -- --stand-ins` gives the stand-in when SLACK_STAND_IN_USERS is unset, so Slack flows can
 * be tried (ephemerals, users.info, on-call emails): ids that say what a rules file's `permissions:` may make them.
 */
export const DEFAULT_SLACK_USERS: SlackUserConfig[] = [
  { id: 'U0OPERATOR', name: 'operator', email: 'operator@example.com' },
  { id: 'U0VIEWER', name: 'viewer', email: 'viewer@example.com' },
];

/** SLACK_STAND_IN_USERS: `ID:name[:email]` entries, comma-separated. Throws on a malformed entry. */
export function parseStandInUsers(raw: string): SlackUserConfig[] {
  return raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((entry) => {
      const [id, name, email, ...rest] = entry.split(':').map((f) => f.trim());
      if (!id || !name || rest.length > 0) throw new Error(`SLACK_STAND_IN_USERS entries must be ID:name[:email], got "${entry}"`);
      return { id, name, ...(email ? { email } : {}) };
    });
}

/** The inverse of parseStandInUsers. */
export function formatStandInUsers(users: readonly SlackUserConfig[]): string {
  return users.map((u) => [u.id, u.name, ...(u.email ? [u.email] : [])].join(':')).join(',');
}

export interface SlackStandInOptions {
  port?: number;
  host?: string;
  /** Bot tokens that authenticate; any other token gets `invalid_auth`. */
  tokens?: string[];
  channels?: SlackChannelConfig[];
  users?: SlackUserConfig[];
  usergroups?: SlackUsergroupConfig[];
  /**
   * Per-method limits, e.g. `{ 'chat.postMessage': { perSecond: 1 } }`, `{ 'conversations.replies': { perMinute: 50 } }`;
   * over it → HTTP 429 + Retry-After, or with `answer: 'rate_limited'` HTTP 200 ok:false `rate_limited` (chat.postMessage's).
   */
  rateLimits?: Record<string, MethodRateLimit>;
  /**
   * The most messages a conversations.history or conversations.replies page holds (and its default): 15 for an app
   * installed from outside the Slack Marketplace since 2025-05-29 (with `rateLimits` of 1 a minute for both methods).
   * Unset: Slack's usual 999 and 1000.
   */
  readPageMax?: number;
  /** Delay before every Web API answer. */
  latencyMs?: number;
  now?: () => number;
  /** Called with every message stored (posted by the bot or seeded), e.g. to time deliveries. */
  onMessage?: (message: SlackStoredMessage) => void;
  /** App-level tokens (xapp-…) that may open a Socket Mode connection. */
  appTokens?: string[];
  /** The app's OAuth client credentials, for oauth.v2.access (default SLACK_STAND_IN_OAUTH). */
  oauth?: SlackOAuthOptions;
}

export interface SlackStandIn {
  /** Base URL ending in `/api/`, what `slackApiUrl` / SLACK_API_URL take. */
  url: string;
  port: number;
  state: SlackState;
  /** Socket Mode: push envelopes to the connected app and see its acknowledgements. */
  socket: SocketModeEndpoint;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

function sendFault(reply: FastifyReply, fault: Exclude<SlackFault, { loseAnswer: true } | { slowMs: number }>): { status: number; error?: string } {
  if ('ok' in fault) {
    void reply.code(200).send({ ok: false, error: fault.error });
    return { status: 200, error: fault.error };
  }
  if (fault.retryAfter !== undefined) void reply.header('retry-after', String(fault.retryAfter));
  const error = fault.status === 429 ? 'ratelimited' : fault.status === 503 ? 'service_unavailable' : 'internal_error';
  void reply.code(fault.status).send(fault.body ?? { ok: false, error });
  return { status: fault.status, error };
}

/** The fastify app behind the stand-in, for callers that want `inject` without a port. */
export function buildSlackStandIn(opts: SlackStandInOptions = {}): { app: FastifyInstance; state: SlackState; socket: SocketModeEndpoint } {
  const now = opts.now ?? Date.now;
  const state = new SlackState(
    { channels: opts.channels ?? DEFAULT_SLACK_CHANNELS, users: opts.users ?? [], usergroups: opts.usergroups ?? [] },
    now,
    opts.onMessage,
  );
  if (opts.readPageMax !== undefined) state.readPageMax = opts.readPageMax;
  const tokens = new Set(opts.tokens ?? [SLACK_STAND_IN_TOKEN]);
  const limiter = new RateLimiter(opts.rateLimits ?? {}, now);
  const oauth = opts.oauth ?? SLACK_STAND_IN_OAUTH;
  const socket = new SocketModeEndpoint(new Set(opts.appTokens ?? []), now);
  const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });
  app.server.on('upgrade', (req, sock, head) => socket.upgrade(req, sock, head));
  app.addHook('preClose', async () => socket.close());
  registerAuthorizePage(app, state, oauth);

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post<{ Params: { method: string } }>('/api/:method', async (req, reply) => {
    const { method } = req.params;
    const args: Args = { ...((req.body as Args | undefined) ?? {}) };
    const fromHeader = bearer(req.headers.authorization);
    const token = fromHeader ?? (typeof args.token === 'string' ? args.token : undefined);
    delete args.token;
    const team = token === undefined ? undefined : state.teamsByToken.get(token);
    const call = {
      method,
      args,
      status: 200,
      at: new Date(now()).toISOString(),
      ...(token !== undefined ? { tokenFingerprint: tokenFingerprint(token), tokenVia: fromHeader !== undefined ? 'header' : 'argument' } : {}),
      ...(team ? { team: team.teamId } : {}),
    } as (typeof state.calls)[number];
    state.calls.push(call);
    if (opts.latencyMs) await sleep(opts.latencyMs);

    const fault = state.takeFault(method, args.channel);
    const loseAnswer = fault !== undefined && 'loseAnswer' in fault;
    const gatewayAfterWork = fault !== undefined && 'status' in fault && fault.afterWork === true ? fault : undefined;
    if (fault && 'slowMs' in fault) await sleep(fault.slowMs);
    else if (fault && !('loseAnswer' in fault) && !gatewayAfterWork) return Object.assign(call, sendFault(reply, fault));

    const answer = (status: number, body: Record<string, unknown>) => {
      call.status = status;
      if (body.ok === false) call.error = body.error as string;
      if (loseAnswer) {
        // The work is done; the answer never reaches the caller (the connection drops).
        call.answerLost = true;
        reply.hijack();
        req.raw.socket.destroy();
        return reply;
      }
      if (gatewayAfterWork) {
        // The work is done; a gateway on the way answers its own status instead (the call keeps Slack's).
        call.answerLost = true;
        sendFault(reply, gatewayAfterWork);
        return reply;
      }
      return reply.code(status).send(body);
    };
    // The two methods that are not called with a bot token: the code exchange and the socket URL.
    if (method === 'oauth.v2.access') {
      try {
        return answer(200, { ok: true, ...oauthAccess(args, req.headers.authorization, state, oauth) });
      } catch (err) {
        if (err instanceof SlackApiError) return answer(200, { ok: false, error: err.error });
        throw err;
      } finally {
        delete args.client_secret; // recorded calls keep no secret
      }
    }
    if (!token) return answer(200, { ok: false, error: 'not_authed' });
    if (method === 'apps.connections.open') {
      if (!socket.accepts(token)) return answer(200, { ok: false, error: token.startsWith('xapp-') ? 'invalid_auth' : 'not_allowed_token_type' });
      return answer(200, { ok: true, ...socket.open(`http://${req.headers.host ?? '127.0.0.1'}`) });
    }
    if (!tokens.has(token) && !team) return answer(200, { ok: false, error: 'invalid_auth' });
    const wait = limiter.take(method, args.channel);
    if (wait !== undefined && limiter.answerOf(method) === 'rate_limited') return answer(200, { ok: false, error: 'rate_limited' });
    if (wait !== undefined) {
      void reply.header('retry-after', String(wait));
      return answer(429, { ok: false, error: 'ratelimited' });
    }
    const handler = METHODS[method];
    if (!handler) return answer(200, { ok: false, error: 'unknown_method' });
    try {
      return answer(200, { ok: true, ...handler(args, state, team) });
    } catch (err) {
      if (err instanceof SlackApiError) return answer(200, { ok: false, error: err.error, ...err.extra });
      throw err;
    }
  });

  // Control surface for tests that run the stand-in in another process.
  app.post<{ Body: { method: string; fault: SlackFault; times?: number; forMs?: number } }>(
    '/_stand-in/faults',
    async (req, reply) => {
      const { method, fault, times, forMs } = req.body ?? ({} as never);
      const positive = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isFinite(n) && n > 0);
      if (
        typeof method !== 'string' ||
        typeof fault !== 'object' ||
        fault === null ||
        !positive(times) ||
        !positive(forMs) ||
        (times !== undefined && forMs !== undefined)
      ) {
        return reply.code(400).send({
          error: 'body must be {"method": string ("*" = every method), "fault": object, and "times"?: number or "forMs"?: number}',
        });
      }
      if (forMs !== undefined) state.failFor(method, fault, forMs);
      else state.failNext(method, fault, times ?? 1);
      return { ok: true };
    },
  );
  app.delete('/_stand-in/faults', async () => {
    state.clearFaults();
    return { ok: true };
  });
  // Slack's response_urls (hooks.slack.com/commands/…) are plain JSON posts with no token: the URL is the secret.
  app.post<{ Params: { id: string } }>(`${RESPONSE_PATH}:id`, async (req, reply) => {
    // A network fault on the way (a proxy letting only slack.com through): the connection ends with no answer.
    if (state.unreachableResponseUrls.has(req.params.id)) {
      reply.hijack();
      req.raw.socket.destroy();
      return;
    }
    const body = req.body as Record<string, unknown> | null;
    const hasContent = body && typeof body === 'object' && (typeof body.text === 'string' || Array.isArray(body.blocks));
    if (!hasContent) return reply.code(400).type('text/plain').send('no_text');
    const type = body.response_type;
    if (type !== undefined && type !== 'ephemeral' && type !== 'in_channel') return reply.code(400).type('text/plain').send('invalid_response_type');
    // As Slack: a response_url takes 5 answers, and none once expired (30 minutes after the command).
    if (state.expiredResponseUrls.has(req.params.id)) return reply.code(404).type('text/plain').send('expired_url');
    if (state.responses.filter((r) => r.id === req.params.id).length >= RESPONSE_URL_USES) return reply.code(404).type('text/plain').send('used_url');
    state.responses.push({ id: req.params.id, body, at: new Date(now()).toISOString() });
    return reply.code(200).type('text/plain').send('ok');
  });
  // A path it never gave (a response_url of another run, one with its slashes unencoded): hooks.slack.com's 404, which
  // names no path. Fastify's own 404 repeated it, and a response_url's path is its secret: the sink kept it in its errors.
  app.setNotFoundHandler((_req, reply) => reply.code(404).type('text/plain').send('no_service'));
  app.get('/_stand-in/responses', async () => ({ responses: state.responses }));
  app.get('/_stand-in/messages', async () => ({ messages: state.messages }));
  app.get('/_stand-in/calls', async () => ({ calls: state.calls }));
  app.get('/_stand-in/usergroups', async () => ({ usergroups: state.usergroups }));
  app.get('/_stand-in/ephemerals', async () => ({ ephemerals: state.ephemerals }));
  app.post<{ Body: SocketEnvelope }>('/_stand-in/socket/envelopes', async (req, reply) => {
    const e = req.body;
    if (typeof e?.envelope_id !== 'string' || typeof e.type !== 'string') {
      return reply.code(400).send({ error: 'body must be an envelope {"envelope_id", "type", "payload"}' });
    }
    return { delivered: socket.push(e) };
  });
  app.get('/_stand-in/socket/acks', async () => ({ acks: socket.acks, connections: socket.connections }));
  app.post('/_stand-in/reset', async () => {
    state.reset();
    return { ok: true };
  });

  return { app, state, socket };
}

/** Starts a local stand-in of the Slack Web API over real HTTP. */
export async function startSlackStandIn(opts: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const { app, state, socket } = buildSlackStandIn(opts);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  return {
    url: `http://${host}:${port}/api/`,
    port,
    state,
    socket,
    close: () => app.close(),
  };
}
