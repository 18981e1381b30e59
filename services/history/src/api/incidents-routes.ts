/** GET /api/incidents and GET /api/incidents/:id over the projection. */
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { getDeliveries, getIncident, getTimeline, listIncidents } from './queries';
import { ErrorBody, IdParams, IncidentDetail, IncidentList, ListQuery } from './schemas';

export function incidentsRoutes(pool: Pool) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get<{ Querystring: ListQuery }>(
      '/api/incidents',
      {
        schema: {
          querystring: ListQuery,
          response: { 200: IncidentList, 400: ErrorBody },
        },
      },
      async (req) => {
        const { limit, ...filters } = req.query;
        return { incidents: await listIncidents(pool, { ...filters, limit }), limit };
      },
    );

    app.get<{ Params: IdParams }>(
      '/api/incidents/:id',
      {
        schema: {
          params: IdParams,
          response: { 200: IncidentDetail, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const { id } = req.params;
        const incident = await getIncident(pool, id);
        if (!incident) return reply.code(404).send({ error: 'not_found', message: `no incident with id "${id}"` });
        const [timeline, deliveries] = await Promise.all([getTimeline(pool, id), getDeliveries(pool, id)]);
        return { ...incident, timeline, deliveries };
      },
    );
  };
}
