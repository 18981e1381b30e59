import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { normaliseAlertmanager, AlertmanagerPayload } from '@alertbus/normalise';
import { acceptAlerts, type AcceptDeps } from '../accept';
import { senderOf } from '../plugins/bearer-auth';
import { cleaningOf } from '../plugins/json-body';
import { webhookResponses } from '../responses';

/** POST /webhooks/alertmanager: Prometheus Alertmanager's webhook receiver (payload version 4). */
export const alertmanagerRoutes: FastifyPluginAsyncTypebox<AcceptDeps> = async (app, deps) => {
  app.post(
    '/webhooks/alertmanager',
    { schema: { body: AlertmanagerPayload, response: webhookResponses } },
    async (req, reply) => {
      const facts = { authenticatedAs: senderOf(req), cleaning: cleaningOf(req) };
      const accepted = await acceptAlerts(deps, 'alertmanager', normaliseAlertmanager(req.body), facts);
      return reply.code(202).send(accepted);
    },
  );
};
