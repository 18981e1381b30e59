/** GET /api/stats: counts and durations over a window of opening times. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Pool } from 'pg';
import { ErrorBody, StatsBody, StatsQuery } from './schemas';
import { getStats } from './stats';

const DEFAULT_WINDOW_MS = 30 * 86_400_000;
const EARLIEST_MS = Date.parse('0001-01-01T00:00:00Z');

export function statsRoutes(pool: Pool, now: () => Date) {
  const routes: FastifyPluginAsyncTypebox = async (app) => {
    app.get(
      '/api/stats',
      {
        schema: {
          summary: 'Incident statistics over a time window',
          description:
            'Over incidents opened in [from, to) (opened_at: when alertbus opened them): counts per source, severity and status; ' +
            'time to acknowledge and to resolve (median and 90th percentile, seconds), measured from when the sender says the ' +
            'incident started (started_at, else opened_at) to acknowledged_at, and to when the sender says it ended (ended_at, ' +
            'else resolved_at); pages per UTC day; incidents per UTC day; the noisiest aliases.',
          tags: ['incidents'],
          querystring: StatsQuery,
          response: { 200: StatsBody, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const toMs = req.query.to === undefined ? now().getTime() : Date.parse(req.query.to);
        // The default window starts no earlier than the year 1 (Postgres refuses year 0; no incident is older).
        const fromMs = req.query.from === undefined ? Math.max(toMs - DEFAULT_WINDOW_MS, EARLIEST_MS) : Date.parse(req.query.from);
        if (fromMs >= toMs) {
          return reply.code(400).send({ error: 'bad_request', message: 'invalid query parameters: "from" must be before "to"' });
        }
        return getStats(pool, new Date(fromMs).toISOString(), new Date(toMs).toISOString());
      },
    );
  };
  return routes;
}
