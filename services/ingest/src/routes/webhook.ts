import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import type { NormaliseResult } from '@alertbus/normalise';
import type { AlertSource } from '@alertbus/schemas';
import { acceptAlerts, type AcceptDeps } from '../accept';
import { HttpError } from '../http-error';
import { senderOf } from '../plugins/bearer-auth';
import { cleaningOf } from '../plugins/json-body';
import { webhookResponses } from '../responses';

/** POST /webhooks/<source>: the body checked against the source's schema, normalised, written, then 202. */
export function webhookRoute<S extends TSchema>(
  source: AlertSource,
  body: S,
  normalise: (payload: Static<S>) => NormaliseResult,
  /** A body of a shape this route does not take, recognised before the schema check: why (a 400), else undefined. */
  misdirected?: (body: unknown) => string | undefined,
): FastifyPluginAsyncTypebox<AcceptDeps> {
  return async (app, deps) => {
    const preValidation = misdirected
      ? async (req: { body: unknown }) => {
          const why = misdirected(req.body);
          if (why) throw new HttpError(400, 'invalid_payload', why);
        }
      : undefined;
    app.post(`/webhooks/${source}`, { schema: { body, response: webhookResponses }, ...(preValidation ? { preValidation } : {}) }, async (req, reply) => {
      const facts = { authenticatedAs: senderOf(req), cleaning: cleaningOf(req) };
      const accepted = await acceptAlerts(deps, source, normalise(req.body), facts);
      // Alertmanager (max_alerts) and Grafana say how many alerts of the group they left out: those never reach
      // alertbus, so an operator is told, in the log and a counter to alert on, instead of nobody.
      const truncated = (req.body as { truncatedAlerts?: unknown }).truncatedAlerts;
      if (typeof truncated === 'number' && truncated > 0 && Number.isSafeInteger(truncated)) {
        deps.metrics.alertsTruncated.labels({ source }).inc(truncated);
        req.log.warn(
          { source, truncatedAlerts: truncated, accepted: accepted.accepted },
          `the sender left ${truncated} alerts of this group out (truncatedAlerts): they are not routed; raise the receiver's max_alerts`,
        );
      }
      return reply.code(202).send(accepted);
    });
  };
}
