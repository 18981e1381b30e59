/** GET /api/suppressed: what alertbus kept quiet over a window, and why (after an incident, "what did we not hear?"). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Pool } from 'pg';
import { formatDuration, parseDuration } from '@alertbus/schemas';
import { readerOf } from './auth';
import { BadCursorError } from './queries';
import { redact, type Reader } from './redact';
import { ErrorBody, SuppressedList, SuppressedQuery } from './schemas';
import { countSuppressed, listSuppressed, pageWindow, type SuppressedRow } from './suppressed-queries';

const DEFAULT_WINDOW_MS = 24 * 3_600_000;

const badRequest = (message: string) => ({ error: 'bad_request', message });

/**
 * A suppression as the API shows it. The title, severity, labels and what suppressed it (a silence's comment) are what
 * senders and people wrote: redacted for the reader as /api/timeline redacts the event's data.
 */
function suppressionJson(r: SuppressedRow, reader: Reader) {
  const shown = redact({ title: r.title, severity: r.severity, labels: r.labels, suppressedBy: r.suppressedBy }, reader) as Pick<
    SuppressedRow,
    'title' | 'severity' | 'labels' | 'suppressedBy'
  >;
  return {
    event_id: r.eventId,
    recorded_at: r.recordedAt,
    alias: r.alias,
    reason: r.reason,
    input_type: r.inputType,
    input_id: r.inputId,
    incident_id: r.incidentId,
    rule: r.rule,
    suppressed_by: shown.suppressedBy,
    storm_summary: r.stormSummary && {
      alias: r.stormSummary.alias,
      slack_channel: r.stormSummary.slackChannel,
      slack_ts: r.stormSummary.slackTs,
      pager_alert_id: r.stormSummary.pagerAlertId,
    },
    title: shown.title,
    severity: shown.severity,
    labels: shown.labels as Record<string, string> | null,
  };
}

export function suppressedRoutes(pool: Pool, now: () => Date) {
  const routes: FastifyPluginAsyncTypebox = async (app) => {
    app.get(
      '/api/suppressed',
      {
        schema: {
          summary: 'What was kept quiet over a window, and why',
          description:
            'Every EventSuppressed decision recorded in [from, to), newest first: silenced (which silence, by whom), inhibited ' +
            '(by which incident and inhibit rule), dropped by a rule, joined into a storm summary, a late copy of a resolved ' +
            'alert, and the Slack and pager inputs that changed nothing. The window defaults to the 24 hours before now; ' +
            '`since` (e.g. 24h) gives its length instead of `from`. The first page counts the window by reason. Pages are ' +
            'keyset pages: pass `next_cursor` back as `cursor` with the same filters; the window stays the first page\'s. ' +
            'A storm suppression\'s `storm_summary` is where the storm can be followed: its alias\'s /api/timeline, its summary ' +
            'message and its page. ' +
            'Titles, labels and comments are redacted as on /api/timeline.',
          tags: ['incidents'],
          querystring: SuppressedQuery,
          response: { 200: SuppressedList, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const { limit, cursor, ...filters } = req.query;
        if (filters.since !== undefined && filters.from !== undefined) {
          return reply.code(400).send(badRequest('invalid query parameters: give "since" or "from", not both'));
        }
        const sinceMs = filters.since === undefined ? DEFAULT_WINDOW_MS : parseDuration(filters.since);
        if (sinceMs === null || sinceMs <= 0) {
          return reply.code(400).send(badRequest(`invalid query parameter "since": must be a duration such as 24h, 90m or 7d, got "${filters.since}"`));
        }
        const toMs = filters.to === undefined ? now().getTime() : Date.parse(filters.to);
        const fromMs = filters.from === undefined ? toMs - sinceMs : Date.parse(filters.from);
        if (fromMs >= toMs) {
          const to = filters.to === undefined ? ` (now, ${new Date(toMs).toISOString()})` : '';
          return reply.code(400).send(badRequest(`invalid query parameters: "from" must be before "to"${to}`));
        }
        if (fromMs < Date.parse('0001-01-01T00:00:00Z')) {
          return reply.code(400).send(badRequest(`invalid query parameter "since": ${formatDuration(sinceMs)} before "to" is before the year 1`));
        }
        try {
          const window = pageWindow(cursor, filters, { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() });
          const f = { from: window.from, to: window.to, reason: filters.reason, alias: filters.alias, limit };
          const [page, counts] = await Promise.all([
            listSuppressed(pool, f, window),
            window.position === null ? countSuppressed(pool, f) : Promise.resolve(null),
          ]);
          const reader = readerOf(req);
          return {
            from: window.from,
            to: window.to,
            suppressed: page.items.map((r) => suppressionJson(r, reader)),
            counts,
            total: counts === null ? null : counts.reduce((sum, c) => sum + c.count, 0),
            limit,
            next_cursor: page.nextCursor,
          };
        } catch (err) {
          if (err instanceof BadCursorError) return reply.code(400).send(badRequest(err.message));
          throw err;
        }
      },
    );
  };
  return routes;
}
