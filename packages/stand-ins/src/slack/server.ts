import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { SlackApiError, type Args } from './args';
import { METHODS } from './methods';
import { RateLimiter, type MethodRateLimit } from './rate-limit';
import {
  SlackState,
  type SlackFault,
  type SlackStoredMessage,
  type SlackChannelConfig,
  type SlackUserConfig,
  type SlackUsergroupConfig,
} from './state';

export { SlackState, SLACK_STAND_IN_BOT } from './state';
export type {
  SlackCallRecord,
  SlackChannelConfig,
  SlackFault,
  SlackStoredMessage,
  SlackUserConfig,
  SlackUsergroupConfig,
} from './state';
export type { MethodRateLimit as SlackMethodRateLimit } from './rate-limit';

/** The token the stand-in accepts when none are configured. */
export const SLACK_STAND_IN_TOKEN = 'xoxb-stand-in';

export const DEFAULT_SLACK_CHANNELS: SlackChannelConfig[] = [
  { id: 'C0ALERTS', name: 'alerts' },
  { id: 'C0OPS', name: 'ops' },
];

export interface SlackStandInOptions {
  port?: number;
  host?: string;
  /** Bot tokens that authenticate; any other token gets `invalid_auth`. */
  tokens?: string[];
  channels?: SlackChannelConfig[];
  users?: SlackUserConfig[];
  usergroups?: SlackUsergroupConfig[];
  /** Per-method limits, e.g. `{ 'chat.postMessage': { perSecond: 1 } }`; over it → HTTP 429 + Retry-After. */
  rateLimits?: Record<string, MethodRateLimit>;
  /** Delay before every Web API answer. */
  latencyMs?: number;
  now?: () => number;
  /** Called with every message stored (posted by the bot or seeded), e.g. to time deliveries. */
  onMessage?: (message: SlackStoredMessage) => void;
}

export interface SlackStandIn {
  /** Base URL ending in `/api/`, what `slackApiUrl` / SLACK_API_URL take. */
  url: string;
  port: number;
  state: SlackState;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

function sendFault(reply: FastifyReply, fault: SlackFault): { status: number; error?: string } {
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
export function buildSlackStandIn(opts: SlackStandInOptions = {}): { app: FastifyInstance; state: SlackState } {
  const now = opts.now ?? Date.now;
  const state = new SlackState(
    { channels: opts.channels ?? DEFAULT_SLACK_CHANNELS, users: opts.users ?? [], usergroups: opts.usergroups ?? [] },
    now,
    opts.onMessage,
  );
  const tokens = new Set(opts.tokens ?? [SLACK_STAND_IN_TOKEN]);
  const limiter = new RateLimiter(opts.rateLimits ?? {}, now);
  const app = Fastify({ logger: false, bodyLimit: 5 * 1024 * 1024 });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post<{ Params: { method: string } }>('/api/:method', async (req, reply) => {
    const { method } = req.params;
    const args: Args = { ...((req.body as Args | undefined) ?? {}) };
    const token = bearer(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);
    delete args.token;
    const call = { method, args, status: 200, at: new Date(now()).toISOString() } as (typeof state.calls)[number];
    state.calls.push(call);
    if (opts.latencyMs) await sleep(opts.latencyMs);

    const fault = state.takeFault(method);
    if (fault) return Object.assign(call, sendFault(reply, fault));

    const answer = (status: number, body: Record<string, unknown>) => {
      call.status = status;
      if (body.ok === false) call.error = body.error as string;
      return reply.code(status).send(body);
    };
    if (!token) return answer(200, { ok: false, error: 'not_authed' });
    if (!tokens.has(token)) return answer(200, { ok: false, error: 'invalid_auth' });
    const wait = limiter.take(method);
    if (wait !== undefined) {
      void reply.header('retry-after', String(wait));
      return answer(429, { ok: false, error: 'ratelimited' });
    }
    const handler = METHODS[method];
    if (!handler) return answer(200, { ok: false, error: 'unknown_method' });
    try {
      return answer(200, { ok: true, ...handler(args, state) });
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
  app.get('/_stand-in/messages', async () => ({ messages: state.messages }));
  app.get('/_stand-in/calls', async () => ({ calls: state.calls }));
  app.get('/_stand-in/usergroups', async () => ({ usergroups: state.usergroups }));
  app.post('/_stand-in/reset', async () => {
    state.reset();
    return { ok: true };
  });

  return { app, state };
}

/** Starts a local stand-in of the Slack Web API over real HTTP. */
export async function startSlackStandIn(opts: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const { app, state } = buildSlackStandIn(opts);
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  return {
    url: `http://${host}:${port}/api/`,
    port,
    state,
    close: () => app.close(),
  };
}
