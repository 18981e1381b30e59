/** GET /api/incidents (filters, keyset pages) and GET /api/incidents/:id (with its timeline) over the projection. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Pool } from 'pg';
import { readerOf } from './auth';
import { instantMicros } from './instant';
import { redactText } from './redact';
import { BadCursorError, getDeliveries, getIncident, getTimeline, INCIDENT_TIMELINE_MAX, listIncidents } from './queries';
import { ErrorBody, IdParams, IncidentDetail, IncidentList, ListQuery } from './schemas';
import { deliveryJson, incidentJson, timelineJson } from './serialize';

export function incidentsRoutes(pool: Pool) {
  const routes: FastifyPluginAsyncTypebox = async (app) => {
    app.get(
      '/api/incidents',
      {
        schema: {
          summary: 'List incidents, newest first',
          description:
            'Filters combine (AND). Pages are keyset pages: pass `next_cursor` back as `cursor` with the same filters (the page ' +
            'size may change). A cursor passed with other filters is refused (400), as is one from before cursors recorded their filters.',
          tags: ['incidents'],
          querystring: ListQuery,
          response: { 200: IncidentList, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const { limit, ...filters } = req.query;
        if (filters.from !== undefined && filters.to !== undefined && instantMicros(filters.from) >= instantMicros(filters.to)) {
          return reply.code(400).send({ error: 'bad_request', message: 'invalid query parameters: "from" must be before "to"' });
        }
        try {
          const reader = readerOf(req);
          // A search matches what the reader is shown: it does not look into hidden credentials.
          const page = await listIncidents(pool, { ...filters, limit }, (text) => redactText(text, reader));
          return { incidents: page.items.map((r) => incidentJson(r, reader)), limit, next_cursor: page.nextCursor };
        } catch (err) {
          if (err instanceof BadCursorError) return reply.code(400).send({ error: 'bad_request', message: err.message });
          throw err;
        }
      },
    );

    app.get(
      '/api/incidents/:id',
      {
        schema: {
          summary: 'One incident with its whole timeline',
          description:
            'The timeline holds every event of the incident in order (received inputs, decisions with their reason and rule, ' +
            'commands, delivery results), each with the topic, partition and offset it was read from. Raw payloads, Slack ' +
            'response URLs and trigger ids are shown to admin tokens only; credentials (tokens, signatures, keys) to nobody.',
          tags: ['incidents'],
          params: IdParams,
          response: { 200: IncidentDetail, 400: ErrorBody, 404: ErrorBody },
        },
      },
      async (req, reply) => {
        const { id } = req.params;
        const incident = await getIncident(pool, id);
        if (!incident) return reply.code(404).send({ error: 'not_found', message: `no incident with id "${id}"` });
        const [timeline, deliveries] = await Promise.all([getTimeline(pool, id), getDeliveries(pool, id)]);
        const reader = readerOf(req);
        const truncated = timeline.length > INCIDENT_TIMELINE_MAX || deliveries.length > INCIDENT_TIMELINE_MAX;
        return {
          ...incidentJson(incident, reader),
          timeline: timeline.slice(0, INCIDENT_TIMELINE_MAX).map((r) => timelineJson(r, reader)),
          deliveries: deliveries.slice(0, INCIDENT_TIMELINE_MAX).map((r) => deliveryJson(r, reader)),
          truncated,
        };
      },
    );
  };
  return routes;
}
