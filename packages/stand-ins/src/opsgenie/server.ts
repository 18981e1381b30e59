import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { OpsgenieRateDomain, OpsgenieRateLimit } from './rate-limit';
import {
  INTEGRATION_ID,
  OPSGENIE_ROUTES,
  OpsgenieState,
  alertWire,
  type OpsgenieFlavour,
  type OpsgenieCall,
  type OpsgenieFault,
  type OpsgenieNote,
  type OpsgenieRoute,
} from './state';
import { validateAction, validateCreate, validatePriority, type FieldErrors } from './validate';
import { OpsgenieWebhook, type OpsgenieWebhookConfig } from './webhook';

export {
  OPSGENIE_ROUTES,
  OpsgenieState,
  type OpsgenieAction,
  type OpsgenieAlert,
  type OpsgenieCall,
  type OpsgenieFault,
  type OpsgenieFlavour,
  type OpsgenieNote,
  type OpsgenieOnCall,
  type OpsgenieRequest,
  type OpsgenieResponder,
  type OpsgenieRoute,
} from './state';
export type { OpsgenieRateLimit } from './rate-limit';
export { OpsgenieWebhook, alertActionBody, type OpsgenieWebhookConfig, type OpsgenieWebhookDelivery } from './webhook';

/** The key the stand-in accepts unless told otherwise (`Authorization: GenieKey <key>`). */
export const OPSGENIE_STAND_IN_KEY = 'stand-in-genie-key';

/** Where Jira Service Management Operations serves the same alert API (integration events). */
export const JSM_INTEGRATION_PREFIX = '/jsm/ops/integration';

export interface OpsgenieStandInOptions {
  port?: number;
  host?: string;
  /** Accepted GenieKeys; default [OPSGENIE_STAND_IN_KEY]. */
  apiKeys?: string[];
  /** Token bucket per domain; unset = no throttling. */
  rateLimit?: OpsgenieRateLimit;
  /** Schedule name → on-call usernames (emails), or a full entry with an id and nested participants. */
  onCall?: Record<string, string[] | { id?: string; recipients: string[]; participants?: unknown[] }>;
  /** Delay before an accepted request takes effect (Opsgenie processes requests asynchronously); default 0. */
  processingDelayMs?: number;
  /** Post every Acknowledge and Close to this URL, as Opsgenie's Webhook integration does; unset = off (see also PUT /_stand-in/webhook). */
  webhook?: OpsgenieWebhookConfig;
  now?: () => Date;
}

export interface OpsgenieStandIn {
  url: string;
  port: number;
  apiKey: string;
  state: OpsgenieState;
  /** The outgoing Webhook integration: `webhook.configure({ url, authorization })` turns it on, `deliveries` lists its posts. */
  webhook: OpsgenieWebhook;
  app: FastifyInstance;
  close(): Promise<void>;
}

interface Ctx {
  started: number;
  call: OpsgenieCall;
  /** Process the request, then drop the connection instead of answering (loseAnswerNext). */
  loseAnswer?: boolean;
  /** Process the request, then answer this fault instead (a fault with `afterWork`). */
  afterWork?: OpsgenieFault;
}

const ERROR_422 = 'Request body is not processable. Please check the errors.';
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Could not authenticate',
  403: 'You are not authorized for this operation',
  404: 'Not Found',
  422: ERROR_422,
  429: 'TooManyRequests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

const took = (ctx: Ctx) => Math.round(performance.now() - ctx.started) / 1000;

/**
 * A List Alert Notes offset as a number that orders notes: a note's own (`<ms>_<position>`) or a bare epoch ms (before
 * every note of that millisecond); null when it is neither.
 */
function offsetKey(offset: string): bigint | null {
  const own = /^\d+_(\d+)$/.exec(offset);
  if (own) return BigInt(own[1]!);
  return /^\d+$/.test(offset) ? BigInt(offset) * 1_000_000n : null;
}

/** Builds the app without listening, for `app.inject` in tests and for `startOpsgenieStandIn`. */
export function buildOpsgenieStandIn(opts: OpsgenieStandInOptions = {}): { app: FastifyInstance; state: OpsgenieState; webhook: OpsgenieWebhook } {
  const now = opts.now ?? (() => new Date());
  const state = new OpsgenieState(now, opts.processingDelayMs ?? 0);
  const webhook = new OpsgenieWebhook();
  webhook.configure(opts.webhook ?? null);
  state.onAlertAction((a) => webhook.send(a));
  if (opts.rateLimit) state.setRateLimit(opts.rateLimit);
  for (const [name, entry] of Object.entries(opts.onCall ?? {})) {
    if (Array.isArray(entry)) state.setOnCall(name, entry);
    else state.setOnCall(name, entry.recipients, entry);
  }
  const keys = new Set(opts.apiKeys ?? [OPSGENIE_STAND_IN_KEY]);

  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 } });

  // The SDK may send `Content-Type: application/json` with no body (close/ack without data).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('Could not parse request body'), { statusCode: 400 }));
    }
  });

  const ctxOf = new WeakMap<FastifyRequest, Ctx>();
  const ctx = (req: FastifyRequest): Ctx => {
    let c = ctxOf.get(req);
    if (!c) {
      c = {
        started: performance.now(),
        call: { at: now().toISOString(), method: req.method, url: req.url, route: 'unknown', flavour: 'opsgenie', status: 0 },
      };
      ctxOf.set(req, c);
    }
    return c;
  };

  const send = (req: FastifyRequest, reply: FastifyReply, status: number, body: unknown, requestId: string = randomUUID()): FastifyReply => {
    const c = ctx(req);
    if (c.afterWork) {
      // Taken and processed; the caller is told this status instead of what it did.
      const fault = c.afterWork;
      c.afterWork = undefined;
      c.call.answerLost = true;
      return sendFault(req, reply, fault);
    }
    c.call.status = status;
    c.call.requestId = requestId;
    if (c.call.route !== 'unknown' || req.url.includes('/v2/')) state.calls.push(c.call);
    if (c.loseAnswer) {
      // Taken and processed; the answer never reaches the caller.
      c.call.answerLost = true;
      reply.hijack();
      req.raw.socket.destroy();
      return reply;
    }
    reply.header('X-Request-Id', requestId).header('X-Response-Time', String(took(c)));
    if (typeof body === 'string') return reply.code(status).type('text/html').send(body);
    const withMeta = body && typeof body === 'object' ? { ...body, took: took(c), requestId } : body;
    return reply.code(status).send(withMeta);
  };

  const error = (req: FastifyRequest, reply: FastifyReply, status: number, message?: string, errors?: FieldErrors) =>
    send(req, reply, status, { message: message ?? STATUS_TEXT[status] ?? 'Error', ...(errors ? { errors } : {}) });

  const sendFault = (req: FastifyRequest, reply: FastifyReply, fault: OpsgenieFault): FastifyReply => {
    ctx(req).call.fault = true;
    if (fault.status === 429) {
      reply
        .header('X-RateLimit-State', 'THROTTLED')
        .header('X-RateLimit-Reason', 'ACCOUNT')
        .header('X-RateLimit-Period-In-Sec', String(fault.retryAfter ?? 60));
    }
    if (fault.retryAfter !== undefined) reply.header('Retry-After', String(fault.retryAfter));
    for (const [k, v] of Object.entries(fault.headers ?? {})) reply.header(k, v);
    const body = fault.body ?? { message: STATUS_TEXT[fault.status] ?? `HTTP ${fault.status}` };
    return send(req, reply, fault.status, body);
  };

  /** Authentication, scripted faults and throttling, in Opsgenie's order, before any route does its work. */
  const gate = (
    req: FastifyRequest,
    reply: FastifyReply,
    route: OpsgenieRoute,
    flavour: OpsgenieFlavour,
    domain: OpsgenieRateDomain,
  ): boolean => {
    const c = ctx(req);
    c.call.route = route;
    c.call.flavour = flavour;
    if (req.body !== undefined) c.call.body = req.body;
    const params = req.params as { identifier?: string };
    const query = req.query as { identifierType?: string };
    if (params.identifier !== undefined) {
      c.call.identifier = params.identifier;
      c.call.identifierType = query.identifierType ?? 'id';
    }
    const m = /^GenieKey\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m || !keys.has(m[1]!)) {
      void error(req, reply, 401);
      return false;
    }
    const fault = state.takeFault(route);
    if (fault?.afterWork) c.afterWork = fault;
    else if (fault) {
      void sendFault(req, reply, fault);
      return false;
    }
    const { waitSec, periodInSec } = state.throttle(domain);
    if (waitSec > 0) {
      reply
        .header('X-RateLimit-State', 'THROTTLED')
        .header('X-RateLimit-Reason', 'ACCOUNT')
        .header('X-RateLimit-Period-In-Sec', String(periodInSec))
        .header('Retry-After', String(waitSec));
      void error(req, reply, 429);
      return false;
    }
    const lost = state.takeLost(route);
    if (lost === 'drop') {
      // Lost on the way in: never read, nothing changes, no answer.
      c.call.status = 0;
      c.call.fault = true;
      state.calls.push(c.call);
      reply.hijack();
      req.raw.socket.destroy();
      return false;
    }
    if (lost === 'lose-answer') c.loseAnswer = true;
    return true;
  };

  const identifierTypeOk = (req: FastifyRequest, reply: FastifyReply): string | null => {
    const t = (req.query as { identifierType?: string }).identifierType ?? 'id';
    if (t === 'id' || t === 'tiny' || t === 'alias') return t;
    void error(req, reply, 422, ERROR_422, { identifierType: `Invalid identifierType '${t}', must be one of id, tiny, alias` });
    return null;
  };

  const accepted = (req: FastifyRequest, reply: FastifyReply, requestId: string) =>
    send(req, reply, 202, { result: 'Request will be processed' }, requestId);

  const alertRoutes = (flavour: OpsgenieFlavour) => async (scope: FastifyInstance) => {
    scope.post('/v2/alerts', async (req, reply) => {
      if (!gate(req, reply, 'create', flavour, 'alert')) return reply;
      const errors = validateCreate(req.body);
      if (Object.keys(errors).length > 0) return error(req, reply, 422, ERROR_422, errors);
      return accepted(req, reply, state.create(req.body as Record<string, unknown>, flavour, req.ip));
    });

    for (const kind of ['close', 'acknowledge', 'notes'] as const) {
      scope.post(`/v2/alerts/:identifier/${kind}`, async (req, reply) => {
        if (!gate(req, reply, kind, flavour, 'alert')) return reply;
        const type = identifierTypeOk(req, reply);
        if (!type) return reply;
        const errors = validateAction(req.body, kind);
        if (Object.keys(errors).length > 0) return error(req, reply, 422, ERROR_422, errors);
        const { identifier } = req.params as { identifier: string };
        // Like Opsgenie: 202 even when nothing matches; the request status says "Alert does not exist".
        return accepted(req, reply, state.action(kind, identifier, type, (req.body ?? {}) as Record<string, unknown>));
      });
    }

    // Opsgenie's Alert API only: JSM's integration events API documents create, acknowledge, close and add note.
    if (flavour === 'opsgenie') {
      // As a person's "Unacknowledge" in the app: the alert escalates again, and the webhook reports UnAcknowledge.
      scope.post('/v2/alerts/:identifier/unacknowledge', async (req, reply) => {
        if (!gate(req, reply, 'unacknowledge', flavour, 'alert')) return reply;
        const type = identifierTypeOk(req, reply);
        if (!type) return reply;
        const errors = validateAction(req.body, 'unacknowledge');
        if (Object.keys(errors).length > 0) return error(req, reply, 422, ERROR_422, errors);
        const { identifier } = req.params as { identifier: string };
        return accepted(req, reply, state.action('unacknowledge', identifier, type, (req.body ?? {}) as Record<string, unknown>));
      });

      scope.put('/v2/alerts/:identifier/priority', async (req, reply) => {
        if (!gate(req, reply, 'priority', flavour, 'alert')) return reply;
        const type = identifierTypeOk(req, reply);
        if (!type) return reply;
        const errors = validatePriority(req.body);
        if (Object.keys(errors).length > 0) return error(req, reply, 422, ERROR_422, errors);
        const { identifier } = req.params as { identifier: string };
        return accepted(req, reply, state.updatePriority(identifier, type, (req.body as { priority: string }).priority));
      });
    }

    // List Alert Notes (Opsgenie's Alert API only: JSM's integration events API documents none, so under its prefix this
    // is the not-found answer any unknown route gets). Newest first by default; `offset` is a note's own offset, and
    // `direction=next` continues after it in the order asked for, `prev` gives the page before it.
    scope.get('/v2/alerts/:identifier/notes', async (req, reply) => {
      if (!gate(req, reply, 'listNotes', flavour, 'alert')) return reply;
      if (flavour === 'jsm') return error(req, reply, 404, `No route for ${req.method} ${req.url.split('?')[0]}`);
      const type = identifierTypeOk(req, reply);
      if (!type) return reply;
      const q = req.query as { offset?: string; direction?: string; limit?: string; order?: string };
      const errors: FieldErrors = {};
      const order = q.order ?? 'desc';
      const direction = q.direction ?? 'next';
      const limit = q.limit === undefined ? 20 : Number(q.limit);
      if (order !== 'asc' && order !== 'desc') errors.order = `Invalid order '${order}', must be one of asc, desc`;
      if (direction !== 'next' && direction !== 'prev') errors.direction = `Invalid direction '${direction}', must be one of next, prev`;
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) errors.limit = 'Limit must be between 1 and 100';
      const at = q.offset === undefined || q.offset === '' ? undefined : offsetKey(q.offset);
      if (at === null) errors.offset = `Invalid offset '${q.offset}'`;
      if (Object.keys(errors).length > 0) return error(req, reply, 422, ERROR_422, errors);
      const { identifier } = req.params as { identifier: string };
      const alert = state.find(identifier, type);
      if (!alert) return error(req, reply, 404, 'Alert does not exist');

      const ordered = order === 'asc' ? alert.notes : [...alert.notes].reverse();
      const after = (n: OpsgenieNote) => (order === 'asc' ? offsetKey(n.offset)! > at! : offsetKey(n.offset)! < at!);
      let page: OpsgenieNote[];
      let more: boolean;
      if (at === undefined) {
        page = ordered.slice(0, limit);
        more = ordered.length > limit;
      } else if (direction === 'next') {
        const rest = ordered.filter(after);
        page = rest.slice(0, limit);
        more = rest.length > limit;
      } else {
        const before = ordered.filter((n) => !after(n) && n.offset !== q.offset);
        page = before.slice(Math.max(0, before.length - limit));
        more = false;
      }
      const link = (offset?: string) => {
        const params = new URLSearchParams({ identifierType: type, ...(offset ? { offset } : {}), order, direction: 'next', limit: String(limit) });
        return `${req.protocol}://${req.headers.host ?? 'localhost'}${req.url.split('?')[0]}?${params.toString()}`;
      };
      const last = page[page.length - 1];
      const paging = { first: link(), ...(more && last ? { next: link(last.offset) } : {}) };
      reply.header('X-Paging-First', paging.first);
      if (paging.next) reply.header('X-Paging-Next', paging.next);
      return send(req, reply, 200, {
        data: page.map((n) => ({ note: n.note, owner: n.user ?? '', createdAt: n.createdAt, offset: n.offset })),
        paging,
      });
    });

    scope.get('/v2/alerts/requests/:requestId', async (req, reply) => {
      if (!gate(req, reply, 'requestStatus', flavour, 'alert')) return reply;
      const r = state.requests.get((req.params as { requestId: string }).requestId);
      if (!r || !r.processed) return error(req, reply, 404, 'Request not found. It may not be processed yet.');
      return send(req, reply, 200, {
        data: {
          success: r.isSuccess,
          action: r.action,
          processedAt: r.processedAt,
          integrationId: INTEGRATION_ID,
          isSuccess: r.isSuccess,
          status: r.status,
          alertId: r.alertId,
          alias: r.alias,
        },
      });
    });

    // Opsgenie's Alert API only: JSM's integration events API documents no GET of an alert, so under its prefix this
    // is the not-found answer any unknown route gets (the sink reads it as "none open").
    scope.get('/v2/alerts/:identifier', async (req, reply) => {
      if (!gate(req, reply, 'getAlert', flavour, 'alert')) return reply;
      if (flavour === 'jsm') return error(req, reply, 404, `No route for ${req.method} ${req.url.split('?')[0]}`);
      const type = identifierTypeOk(req, reply);
      if (!type) return reply;
      const alert = state.find((req.params as { identifier: string }).identifier, type);
      if (!alert) return error(req, reply, 404, 'Alert does not exist');
      return send(req, reply, 200, { data: alertWire(alert) });
    });
  };

  void app.register(alertRoutes('opsgenie'));
  void app.register(alertRoutes('jsm'), { prefix: JSM_INTEGRATION_PREFIX });

  app.get('/v2/schedules/:identifier/on-calls', async (req, reply) => {
    if (!gate(req, reply, 'onCalls', 'opsgenie', 'schedule-oncall')) return reply;
    const { identifier } = req.params as { identifier: string };
    const q = req.query as { scheduleIdentifierType?: string; flat?: string };
    const type = q.scheduleIdentifierType ?? 'id';
    if (type !== 'id' && type !== 'name') {
      return error(req, reply, 422, ERROR_422, { scheduleIdentifierType: `Invalid scheduleIdentifierType '${type}'` });
    }
    const schedule = state.findSchedule(identifier, type);
    if (!schedule) return error(req, reply, 404, `Schedule with identifier [${identifier}] does not exist`);
    const parent = { id: schedule.id, name: schedule.name, enabled: true };
    if (q.flat === 'true') return send(req, reply, 200, { data: { _parent: parent, onCallRecipients: schedule.recipients } });
    const participants =
      schedule.participants ??
      schedule.recipients.map((email) => ({ id: randomUUID(), name: email, type: 'user' }));
    return send(req, reply, 200, { data: { _parent: parent, onCallParticipants: participants } });
  });

  // ------------------------------------------------------------ test controls (no auth)

  app.get('/_stand-in/alerts', async (req) => {
    const alias = (req.query as { alias?: string }).alias;
    return { alerts: alias === undefined ? state.alerts : state.alerts.filter((a) => a.alias === alias) };
  });
  app.get('/_stand-in/calls', async () => ({ calls: state.calls }));
  app.post('/_stand-in/faults', async (req, reply) => {
    const b = (req.body ?? {}) as Partial<OpsgenieFault> & { route?: string; times?: number; forMs?: number };
    const route = b.route ?? '*';
    if (route !== '*' && !OPSGENIE_ROUTES.includes(route as OpsgenieRoute)) {
      return reply.code(400).send({ message: `route must be one of *, ${OPSGENIE_ROUTES.join(', ')}` });
    }
    if (!Number.isInteger(b.status) || b.status! < 100 || b.status! > 599) {
      return reply.code(400).send({ message: 'status must be an HTTP status code' });
    }
    const positive = (n: unknown) => n === undefined || (typeof n === 'number' && Number.isFinite(n) && n > 0);
    if (!positive(b.times) || !positive(b.forMs) || (b.times !== undefined && b.forMs !== undefined)) {
      return reply.code(400).send({ message: 'give either times (how many requests fail) or forMs (for how long), a positive number' });
    }
    const fault: OpsgenieFault = { status: b.status!, body: b.body, retryAfter: b.retryAfter, headers: b.headers, ...(b.afterWork === true ? { afterWork: true } : {}) };
    if (b.forMs !== undefined) state.failFor(route as OpsgenieRoute | '*', fault, b.forMs);
    else state.failNext(route as OpsgenieRoute | '*', fault, b.times ?? 1);
    return reply.code(204).send();
  });
  // Requests accepted but left unprocessed (status 404) while later ones are processed: see OpsgenieState.holdNext.
  app.post('/_stand-in/hold', async (req, reply) => {
    const b = (req.body ?? {}) as { route?: string; times?: number };
    if (!OPSGENIE_ROUTES.includes(b.route as OpsgenieRoute)) return reply.code(400).send({ message: `route must be one of ${OPSGENIE_ROUTES.join(', ')}` });
    if (b.times !== undefined && !(Number.isInteger(b.times) && b.times > 0)) return reply.code(400).send({ message: 'times must be a positive integer' });
    state.holdNext(b.route as OpsgenieRoute, b.times ?? 1);
    return reply.code(204).send();
  });
  app.post('/_stand-in/release', async (_req, reply) => {
    state.releaseHeld();
    return reply.code(204).send();
  });
  app.delete('/_stand-in/faults', async (_req, reply) => {
    state.clearFaults();
    return reply.code(204).send();
  });
  app.put('/_stand-in/on-calls/:schedule', async (req, reply) => {
    const b = (req.body ?? {}) as { recipients?: string[]; id?: string; participants?: unknown[] };
    if (!Array.isArray(b.recipients)) return reply.code(400).send({ message: 'recipients must be a list of emails' });
    state.setOnCall((req.params as { schedule: string }).schedule, b.recipients, b);
    return reply.code(204).send();
  });
  app.put('/_stand-in/rate-limit', async (req, reply) => {
    const b = req.body as OpsgenieRateLimit | null | undefined;
    state.setRateLimit(b && typeof b.capacity === 'number' ? b : null);
    return reply.code(204).send();
  });
  app.put('/_stand-in/webhook', async (req, reply) => {
    const b = (req.body ?? {}) as Partial<OpsgenieWebhookConfig>;
    if (typeof b.url !== 'string' || !/^https?:\/\//.test(b.url)) return reply.code(400).send({ message: 'url must be an http(s) URL' });
    if (b.authorization !== undefined && typeof b.authorization !== 'string') return reply.code(400).send({ message: 'authorization must be a string' });
    webhook.configure({ url: b.url, ...(b.authorization !== undefined ? { authorization: b.authorization } : {}), ...(typeof b.integrationName === 'string' ? { integrationName: b.integrationName } : {}) });
    return reply.code(204).send();
  });
  app.delete('/_stand-in/webhook', async (_req, reply) => {
    webhook.configure(null);
    return reply.code(204).send();
  });
  app.get('/_stand-in/webhook/deliveries', async () => ({ deliveries: webhook.deliveries }));
  app.post('/_stand-in/reset', async (_req, reply) => {
    state.reset();
    return reply.code(204).send();
  });

  app.setNotFoundHandler((req, reply) => error(req, reply, 404, `No route for ${req.method} ${req.url.split('?')[0]}`));
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    return error(req, reply, status, status === 500 ? 'Internal Server Error' : err.message);
  });
  app.addHook('onClose', async () => {
    state.dispose();
    await webhook.settled();
  });

  return { app, state, webhook };
}

/** Starts the Opsgenie (and JSM Ops integration) Alert API stand-in on 127.0.0.1. */
export async function startOpsgenieStandIn(opts: OpsgenieStandInOptions = {}): Promise<OpsgenieStandIn> {
  const { app, state, webhook } = buildOpsgenieStandIn(opts);
  await app.listen({ port: opts.port ?? 0, host: opts.host ?? '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    port,
    apiKey: (opts.apiKeys ?? [OPSGENIE_STAND_IN_KEY])[0]!,
    state,
    webhook,
    app,
    close: () => app.close(),
  };
}
