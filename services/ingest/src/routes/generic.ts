import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { normaliseGeneric, GenericPayload } from '@alertbus/normalise';
import { acceptAlerts, type AcceptDeps } from '../accept';
import { senderOf } from '../plugins/bearer-auth';
import { cleaningOf } from '../plugins/json-body';
import { webhookResponses } from '../responses';

/** POST /webhooks/generic: alertbus's own JSON shape, for scripts and tools without a native integration. */
export const genericRoutes: FastifyPluginAsyncTypebox<AcceptDeps> = async (app, deps) => {
  app.post(
    '/webhooks/generic',
    { schema: { body: GenericPayload, response: webhookResponses } },
    async (req, reply) => {
      const facts = { authenticatedAs: senderOf(req), cleaning: cleaningOf(req) };
      const accepted = await acceptAlerts(deps, 'generic', normaliseGeneric(req.body), facts);
      return reply.code(202).send(accepted);
    },
  );
};
