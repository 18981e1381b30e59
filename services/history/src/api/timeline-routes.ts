/** GET /api/timeline?alias= and GET /api/projection/offsets: what the audit compares the topics with. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Pool } from 'pg';
import { readerOf } from './auth';
import { BadCursorError, getAliasTimeline, getOffsets } from './queries';
import { AliasTimeline, ErrorBody, Offsets, TimelineQuery } from './schemas';
import { timelineJson } from './serialize';

export function timelineRoutes(pool: Pool) {
  const routes: FastifyPluginAsyncTypebox = async (app) => {
    app.get(
      '/api/timeline',
      {
        schema: {
          summary: 'Every projected event of an alias',
          description:
            'In timeline order, each with the incident it belongs to (received inputs are linked through their decisions). ' +
            'Redacted as on /api/incidents/{id}: raw payloads and response URLs for admin tokens only.',
          tags: ['audit'],
          querystring: TimelineQuery,
          response: { 200: AliasTimeline, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        try {
          const page = await getAliasTimeline(pool, req.query.alias, { cursor: req.query.cursor, limit: req.query.limit });
          return { alias: req.query.alias, events: page.items.map((r) => timelineJson(r, readerOf(req))), next_cursor: page.nextCursor };
        } catch (err) {
          if (err instanceof BadCursorError) return reply.code(400).send({ error: 'bad_request', message: err.message });
          throw err;
        }
      },
    );

    app.get(
      '/api/projection/offsets',
      {
        schema: {
          summary: 'Where the projection stands in each partition',
          description: 'The next offset to apply, stored in the same transaction as the rows it covers.',
          tags: ['audit'],
          response: { 200: Offsets },
        },
      },
      async () => ({
        offsets: (await getOffsets(pool)).map((o) => ({
          consumer: o.consumer,
          topic: o.topic,
          partition: o.partition,
          next_offset: o.nextOffset,
        })),
      }),
    );
  };
  return routes;
}
