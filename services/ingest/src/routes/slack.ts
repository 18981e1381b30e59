import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { keepableJson, type Logger } from '@alertbus/common';
import { SlackEventsBody, SlackInteractionBody } from '@alertbus/normalise';
import { HttpError } from '../http-error';
import { parseJsonBody } from '../plugins/json-body';
import { slackResponses } from '../responses';
import { receiveSlackEvent, receiveSlackInteraction, type SlackInboxDeps } from '../slack/inbox';
import { verifySlackSignature } from '../slack/signature';
import { receiveSlashCommand, SlashCommandFields } from '../slack/slash-command';

export interface SlackRouteDeps extends Omit<SlackInboxDeps, 'log'> {
  /** Unset: the HTTP endpoints are not configured and every request answers 503 (never accepted unsigned). */
  signingSecret?: string;
}

type Endpoint = 'events' | 'interactions' | 'commands';
const EVENTS = '/slack/events';
const INTERACTIONS = '/slack/interactions';
const COMMANDS = '/slack/commands';

const endpointOf = (req: FastifyRequest): Endpoint =>
  req.routeOptions.url === INTERACTIONS ? 'interactions' : req.routeOptions.url === COMMANDS ? 'commands' : 'events';

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The JSON an endpoint carries: the whole body for events, the `payload` form field for interactions, the form's fields for commands. */
function decode(endpoint: Endpoint, raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (endpoint === 'events') {
    const misrouted = formPostedToEvents(text);
    if (misrouted) throw new HttpError(400, 'invalid_payload', misrouted);
    return parseJsonBody(text);
  }
  if (endpoint === 'commands') return Object.fromEntries(new URLSearchParams(text));
  const payload = new URLSearchParams(text).get('payload');
  if (payload === null) throw new HttpError(400, 'invalid_payload', 'interactivity request without a "payload" form field');
  return parseJsonBody(payload);
}

/**
 * A signed form at the Events URL is the Slack app's Interactivity or Slash Command Request URL set to it: said so,
 * instead of a JSON parser's error.
 */
function formPostedToEvents(text: string): string | undefined {
  if (text.trimStart().startsWith('{')) return undefined;
  const form = new URLSearchParams(text);
  if (form.has('payload')) {
    return `a form-encoded interactivity payload was posted to ${EVENTS}: set the Slack app's Interactivity Request URL to ${INTERACTIONS}`;
  }
  if (form.has('command')) {
    return `a slash command was posted to ${EVENTS}: set the Slack app's slash command Request URL to ${COMMANDS}`;
  }
  return undefined;
}

function isSslCheck(raw: Buffer): boolean {
  const form = new URLSearchParams(raw.toString('utf8'));
  return form.get('ssl_check') === '1' && !form.has('command');
}

/** Characters cleaned in the request's JSON (see keepableJson): every event it becomes carries the count. */
const cleaned = new WeakMap<FastifyRequest, number>();

/**
 * POST /slack/events and /slack/interactions, encapsulated: the body is kept as raw bytes, the v0 signature
 * is checked over them in a hook of this plugin only, and only then is the body parsed and validated.
 */
export const slackRoutes: FastifyPluginAsyncTypebox<SlackRouteDeps> = async (app, deps) => {
  const { accept, metrics } = deps;
  const inbox = (req: FastifyRequest): SlackInboxDeps => ({ ...deps, log: req.log as unknown as Logger });
  const count = (endpoint: Endpoint, outcome: string) => metrics.requests.inc({ endpoint, outcome });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    if (deps.signingSecret) return;
    count(endpointOf(req), 'not-configured');
    reply.header('x-slack-no-retry', '1');
    throw new HttpError(503, 'slack_not_configured', 'Slack is not configured: set SLACK_SIGNING_SECRET');
  });

  // A request refused for what it carries (400, 413) would be refused again: Slack is told not to send it three more
  // times (protocols.md §1.4), which would also count against the app's failure rate.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode === 400 || reply.statusCode === 413) reply.header('x-slack-no-retry', '1');
    return payload;
  });

  app.addHook('preValidation', async (req, reply) => {
    const endpoint = endpointOf(req);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    // Slack's check of a slash command URL's certificate (`ssl_check=1`, no command) wants a 200 and carries nothing to record.
    if (endpoint === 'commands' && isSslCheck(raw)) {
      count(endpoint, 'ssl-check');
      return reply.code(200).send();
    }
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

  app.post(EVENTS, { schema: { body: SlackEventsBody, response: slackResponses } }, async (req) => {
    const body = req.body;
    if (body.type === 'url_verification') {
      if (typeof body.challenge !== 'string') throw new HttpError(400, 'invalid_payload', 'url_verification without a challenge');
      count('events', 'url-verification');
      return { challenge: body.challenge };
    }
    const retryNum = Number(header(req, 'x-slack-retry-num'));
    return receiveSlackEvent(inbox(req), body, {
      retryNum: Number.isInteger(retryNum) && retryNum >= 0 ? retryNum : undefined,
      retryReason: header(req, 'x-slack-retry-reason'),
      sanitised: cleaned.get(req),
    });
  });

  app.post(INTERACTIONS, { schema: { body: SlackInteractionBody, response: slackResponses } }, async (req, reply) => {
    await receiveSlackInteraction(inbox(req), req.body, { sanitised: cleaned.get(req) });
    // Slack wants an empty 200 for block_actions; the effect shows when the router updates the message.
    return reply.code(200).send();
  });

  app.post(COMMANDS, { schema: { body: SlashCommandFields } }, async (req, reply) => {
    const answer = await receiveSlashCommand(inbox(req), req.body, { via: 'http', sanitised: cleaned.get(req) });
    // Empty: the answer comes at the response_url once the router decided; only a command that is not ours is answered here.
    return answer ? reply.code(200).send(answer) : reply.code(200).send();
  });
};
