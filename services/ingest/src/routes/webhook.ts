import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static, TSchema } from '@sinclair/typebox';
import type { NormaliseResult } from '@alertbus/normalise';
import type { AlertSource } from '@alertbus/schemas';
import { acceptAlerts, type AcceptDeps } from '../accept';
import { senderOf } from '../plugins/bearer-auth';
import { cleaningOf } from '../plugins/json-body';
import { webhookResponses } from '../responses';

/** POST /webhooks/<source>: the body checked against the source's schema, normalised, written, then 202. */
export function webhookRoute<S extends TSchema>(
  source: AlertSource,
  body: S,
  normalise: (payload: Static<S>) => NormaliseResult,
): FastifyPluginAsyncTypebox<AcceptDeps> {
  return async (app, deps) => {
    app.post(`/webhooks/${source}`, { schema: { body, response: webhookResponses } }, async (req, reply) => {
      const facts = { authenticatedAs: senderOf(req), cleaning: cleaningOf(req) };
      const accepted = await acceptAlerts(deps, source, normalise(req.body), facts);
      return reply.code(202).send(accepted);
    });
  };
}
