import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { normaliseGrafana, GrafanaPayload } from '@alertbus/normalise';
import { acceptAlerts, type AcceptDeps } from '../accept';
import { senderOf } from '../plugins/bearer-auth';
import { cleaningOf } from '../plugins/json-body';
import { webhookResponses } from '../responses';

/** POST /webhooks/grafana: Grafana unified alerting's webhook contact point. */
export const grafanaRoutes: FastifyPluginAsyncTypebox<AcceptDeps> = async (app, deps) => {
  app.post(
    '/webhooks/grafana',
    { schema: { body: GrafanaPayload, response: webhookResponses } },
    async (req, reply) => {
      const facts = { authenticatedAs: senderOf(req), cleaning: cleaningOf(req) };
      const accepted = await acceptAlerts(deps, 'grafana', normaliseGrafana(req.body), facts);
      return reply.code(202).send(accepted);
    },
  );
};
