import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { keepableJson, keepableText } from '@alertbus/common';
import {
  normaliseInteraction,
  normaliseSlackEvent,
  SlackEventsBody,
  SlackInteractionBody,
} from '@alertbus/normalise';
import { makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { writeEvents, type AcceptDeps } from '../accept';
import { HttpError } from '../http-error';
import type { SlackMetrics } from '../metrics';
import { parseJsonBody } from '../plugins/json-body';
import { slackResponses } from '../responses';
import type { IdentitySource } from '../slack/identity';
import type { UserNameSource } from '../slack/user-names';
import { verifySlackSignature } from '../slack/signature';

export interface SlackRouteDeps {
  accept: AcceptDeps;
  /** Unset: Slack is not configured and every Slack request answers 503 (never accepted unsigned). */
  signingSecret?: string;
  identity?: IdentitySource;
  /** Resolves the requester's name (users.info); without it events carry the user id only. */
  userNames?: UserNameSource;
  /** How long a Slack request waits for Kafka's acknowledgement (Slack wants 2xx within 3 s). */
  ackTimeoutMs: number;
  metrics: SlackMetrics;
}

type Endpoint = 'events' | 'interactions';
const EVENTS = '/slack/events';
const INTERACTIONS = '/slack/interactions';

const endpointOf = (req: FastifyRequest): Endpoint => (req.routeOptions.url === INTERACTIONS ? 'interactions' : 'events');

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The JSON an endpoint carries: the whole body for events, the `payload` form field for interactions. */
function decode(endpoint: Endpoint, raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (endpoint === 'events') return parseJsonBody(text);
  const payload = new URLSearchParams(text).get('payload');
  if (payload === null) throw new HttpError(400, 'invalid_payload', 'interactivity request without a "payload" form field');
  return parseJsonBody(payload);
}

/** Characters cleaned in the request's JSON (see keepableJson): every event it becomes carries the count. */
const cleaned = new WeakMap<FastifyRequest, number>();
const sanitisedField = (req: FastifyRequest) => {
  const n = cleaned.get(req) ?? 0;
  return n > 0 ? { sanitised: n } : {};
};

/**
 * POST /slack/events and /slack/interactions, encapsulated: the body is kept as raw bytes, the v0 signature
 * is checked over them in a hook of this plugin only, and only then is the body parsed and validated.
 */
export const slackRoutes: FastifyPluginAsyncTypebox<SlackRouteDeps> = async (app, deps) => {
  const { accept, metrics } = deps;
  const count = (endpoint: Endpoint, outcome: string) => metrics.requests.inc({ endpoint, outcome });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    if (deps.signingSecret) return;
    count(endpointOf(req), 'not-configured');
    reply.header('x-slack-no-retry', '1');
    throw new HttpError(503, 'slack_not_configured', 'Slack is not configured: set SLACK_SIGNING_SECRET');
  });

  app.addHook('preValidation', async (req) => {
    const endpoint = endpointOf(req);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifySlackSignature(
      deps.signingSecret!,
      { timestamp: header(req, 'x-slack-request-timestamp'), signature: header(req, 'x-slack-signature'), rawBody: raw },
      Math.floor(accept.now().getTime() / 1000),
    );
    if (!check.ok) {
      count(endpoint, 'rejected-signature');
      throw new HttpError(401, 'unauthorized', `invalid Slack request signature: ${check.reason}`);
    }
    // Cleaned like the webhooks' text (after the signature, which covers the bytes as Slack sent them).
    const kept = keepableJson(decode(endpoint, raw));
    if (kept.changed > 0) cleaned.set(req, kept.changed);
    req.body = kept.value;
  });

  const write = (events: AnyEnvelope[], what: string) =>
    writeEvents(accept, events, { what, timeoutMs: deps.ackTimeoutMs, timeoutVariable: 'INGEST_SLACK_TIMEOUT_MS' });

  app.post(EVENTS, { schema: { body: SlackEventsBody, response: slackResponses } }, async (req) => {
    const body = req.body;
    if (body.type === 'url_verification') {
      if (typeof body.challenge !== 'string') throw new HttpError(400, 'invalid_payload', 'url_verification without a challenge');
      count('events', 'url-verification');
      return { challenge: body.challenge };
    }
    if (body.type === 'app_rate_limited') {
      metrics.rateLimited.inc();
      count('events', 'app-rate-limited');
      req.log.warn({ team: body.team_id, minuteRateLimited: body.minute_rate_limited }, 'Slack rate-limited this app\'s events (app_rate_limited)');
      return { accepted: 0, ids: [], aliases: [], ignored: 'app_rate_limited' };
    }
    if (body.type !== 'event_callback') {
      count('events', 'ignored');
      req.log.debug({ type: body.type }, 'Slack request type not used by alertbus');
      return { accepted: 0, ids: [], aliases: [], ignored: `type ${body.type}` };
    }

    const identity = deps.identity?.current();
    if (!identity) {
      count('events', 'not-ready');
      throw new HttpError(503, 'slack_not_ready', deps.identity?.problem() ?? "the app's own Slack identity is not known");
    }
    const recordedAt = accept.now().toISOString();
    const retryNum = Number(header(req, 'x-slack-retry-num'));
    const result = normaliseSlackEvent(body, {
      identity,
      retryNum: Number.isInteger(retryNum) && retryNum >= 0 ? retryNum : undefined,
      retryReason: header(req, 'x-slack-retry-reason'),
      recordedAt,
    });
    if (result.outcome === 'invalid') throw new HttpError(400, 'invalid_payload', result.message);
    if (result.outcome === 'ignored') {
      count('events', result.reason);
      req.log.debug({ eventId: body.event_id, reason: result.reason }, result.detail);
      return { accepted: 0, ids: [], aliases: [], ignored: result.reason };
    }
    const userName = result.data.user && deps.userNames ? await deps.userNames.name(result.data.user) : undefined;
    const event = makeEnvelope({
      id: accept.newId(),
      type: 'SlackMessageReceived',
      alias: result.alias,
      occurredAt: result.occurredAt ?? recordedAt,
      recordedAt,
      source: 'ingest/slack',
      data: { ...result.data, ...(userName ? { userName: keepableText(userName).value } : {}), ...sanitisedField(req) },
    });
    await write([event], 'Slack event');
    count('events', 'accepted');
    return { accepted: 1, ids: [event.id], aliases: [event.alias] };
  });

  app.post(INTERACTIONS, { schema: { body: SlackInteractionBody, response: slackResponses } }, async (req, reply) => {
    const result = normaliseInteraction(req.body);
    if (result.outcome === 'invalid') throw new HttpError(400, 'invalid_payload', result.message);
    if (result.outcome === 'ignored') {
      count('interactions', 'ignored');
      req.log.debug(result.detail);
      return reply.code(200).send();
    }
    const recordedAt = accept.now().toISOString();
    const events = result.actions.map((a) =>
      makeEnvelope({
        id: accept.newId(),
        type: 'SlackActionReceived',
        alias: a.alias,
        occurredAt: a.occurredAt ?? recordedAt,
        recordedAt,
        source: 'ingest/slack-interactions',
        data: { ...a.data, ...sanitisedField(req) },
      }),
    );
    await write(events, 'Slack action');
    count('interactions', 'accepted');
    // Slack wants an empty 200 for block_actions; the effect shows when the router updates the message.
    return reply.code(200).send();
  });
};
