import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { makeEnvelope, PAGER_ACTION_LIMITS, type PagerProvider } from '@alertbus/schemas';
import { writeEvents, type AcceptDeps } from '../accept';
import { HttpError } from '../http-error';
import { senderOf } from '../plugins/bearer-auth';
import { cleaningOf } from '../plugins/json-body';
import { webhookResponses } from '../responses';

/**
 * The body of Opsgenie's outgoing Webhook integration ("alert action data"), of which alertbus reads the action and
 * the alert's id, alias, username and createdAt; everything else it sends is kept in raw. JSM Operations' Webhook
 * integration documents the same body.
 * Opsgenie: https://docs.opsgenie.com/docs/marid-alert-action-data , https://support.atlassian.com/opsgenie/docs/integrate-opsgenie-with-webhook/
 * JSM Ops: https://support.atlassian.com/jira-service-management-cloud/docs/alert-action-data-for-jira-edge-connector
 */
export const PagerWebhookBody = Type.Object(
  {
    action: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.action }),
    alert: Type.Object({
      alertId: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.alertId }),
      alias: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.alias }),
      // Who acted; cut (not refused) past the bound below, as a refused webhook is an ack that never arrives.
      username: Type.Optional(Type.String({ maxLength: 10_000 })),
      createdAt: Type.Optional(Type.Number()),
    }),
    integrationName: Type.Optional(Type.String({ maxLength: 10_000 })),
  },
  { description: 'Opsgenie / JSM Ops Webhook integration alert action data.' },
);
export type PagerWebhookBody = Static<typeof PagerWebhookBody>;

const cut = (s: string, max: number) => {
  const cps = [...s];
  return cps.length <= max ? s : cps.slice(0, max).join('');
};

/** alert.createdAt is epoch milliseconds; anything else (absent, not a date) is left out. */
function createdAtOf(ms: number | undefined): string | undefined {
  if (ms === undefined || !Number.isSafeInteger(ms) || ms <= 0) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) || d.getUTCFullYear() > 9999 ? undefined : d.toISOString();
}

/** What the pager routes need besides writing to Kafka. */
export interface PagerRouteDeps extends AcceptDeps {
  /** INGEST_PAGER_SENDERS: the INGEST_TOKENS names, besides `opsgenie` and `jsm`, taken on both pager routes. */
  pagerSenders?: ReadonlySet<string>;
}

/**
 * Who may post the pager webhook of `provider`, checked before the body is read: acknowledging or closing an incident
 * is a write that needs a name, so the unnamed INGEST_TOKEN (or none) is refused; the INGEST_TOKENS entry named after
 * the provider is taken on its own route only, and any other name only when INGEST_PAGER_SENDERS lists it. Without that,
 * every sender's token (an alert source's, a script's) could close any incident in the name of any pager user.
 */
function mayPostPagerActions(provider: PagerProvider, deps: PagerRouteDeps) {
  const other = provider === 'opsgenie' ? 'jsm' : 'opsgenie';
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const sender = senderOf(req);
    if (sender === undefined) {
      reply.header('www-authenticate', 'Bearer realm="alertbus"');
      throw new HttpError(401, 'unauthorized', 'pager webhooks act on incidents: send "Authorization: Bearer <token>" with a named INGEST_TOKENS entry (NAME:TOKEN)');
    }
    if (sender === provider) return;
    // Named after the other provider, a token is that provider's integration posting to the wrong route: taken, its
    // action would be recorded (and told in Slack) as this provider's.
    if (sender === other) {
      throw new HttpError(403, 'forbidden', `the INGEST_TOKENS entry "${other}" is for ${other}'s webhook: post to /webhooks/${other}, not /webhooks/${provider}`);
    }
    if (deps.pagerSenders?.has(sender)) return;
    throw new HttpError(
      403,
      'forbidden',
      `sender "${sender}" may not post pager actions (they acknowledge and close incidents): give ${provider}'s webhook a token ` +
        `of its own, named ${provider} in INGEST_TOKENS, or add "${sender}" to INGEST_PAGER_SENDERS`,
    );
  };
}

/**
 * POST /webhooks/opsgenie and /webhooks/jsm: an action taken on a pager alert, written as PagerActionReceived keyed by
 * the alert's alias (the incident's, as alertbus created it), then 202. Who may post it: mayPostPagerActions.
 */
export function pagerWebhookRoute(provider: PagerProvider): FastifyPluginAsyncTypebox<PagerRouteDeps> {
  return async (app, deps) => {
    const onRequest = mayPostPagerActions(provider, deps);
    app.post(`/webhooks/${provider}`, { schema: { body: PagerWebhookBody, response: webhookResponses }, onRequest }, async (req, reply) => {
      const sender = senderOf(req)!;
      const body = req.body;
      const user = body.alert.username?.trim();
      const created = createdAtOf(body.alert.createdAt);
      const integration = body.integrationName?.trim();
      const sanitised = cleaningOf(req).group;
      const recordedAt = deps.now().toISOString();
      const id = deps.newId();
      const event = makeEnvelope({
        id,
        type: 'PagerActionReceived',
        alias: body.alert.alias,
        occurredAt: recordedAt,
        recordedAt,
        source: `ingest/${provider}`,
        correlationId: id,
        data: {
          provider,
          action: body.action,
          alertId: body.alert.alertId,
          pagerAlias: body.alert.alias,
          ...(user ? { user: cut(user, PAGER_ACTION_LIMITS.user) } : {}),
          ...(created ? { alertCreatedAt: created } : {}),
          ...(integration ? { integrationName: cut(integration, PAGER_ACTION_LIMITS.integrationName) } : {}),
          authenticatedAs: sender,
          ...(sanitised > 0 ? { sanitised } : {}),
          raw: body,
        },
      });
      await writeEvents(deps, [event], { what: 'pager action', timeoutMs: deps.kafkaTimeoutMs, timeoutVariable: 'INGEST_KAFKA_TIMEOUT_MS' });
      return reply.code(202).send({ accepted: 1, ids: [id], aliases: [event.alias] });
    });
  };
}

export const opsgenieRoutes = pagerWebhookRoute('opsgenie');
export const jsmRoutes = pagerWebhookRoute('jsm');
