import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
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

/**
 * POST /webhooks/opsgenie and /webhooks/jsm: an action taken on a pager alert, written as PagerActionReceived keyed by
 * the alert's alias (the incident's, as alertbus created it), then 202. Acknowledging or closing an incident is a write
 * that needs a name: only a request sent with a named INGEST_TOKENS entry is taken, and the entries named `opsgenie` and
 * `jsm` only on their own route.
 */
export function pagerWebhookRoute(provider: PagerProvider): FastifyPluginAsyncTypebox<AcceptDeps> {
  return async (app, deps) => {
    app.post(`/webhooks/${provider}`, { schema: { body: PagerWebhookBody, response: webhookResponses } }, async (req, reply) => {
      const sender = senderOf(req);
      if (sender === undefined) {
        reply.header('www-authenticate', 'Bearer realm="alertbus"');
        throw new HttpError(401, 'unauthorized', 'pager webhooks act on incidents: send "Authorization: Bearer <token>" with a named INGEST_TOKENS entry (NAME:TOKEN)');
      }
      // Named after the other provider, a token is that provider's integration posting to the wrong route: taken, its
      // action would be recorded (and told in Slack) as this provider's.
      const other = provider === 'opsgenie' ? 'jsm' : 'opsgenie';
      if (sender === other) {
        throw new HttpError(403, 'forbidden', `the INGEST_TOKENS entry "${other}" is for ${other}'s webhook: post to /webhooks/${other}, not /webhooks/${provider}`);
      }
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
