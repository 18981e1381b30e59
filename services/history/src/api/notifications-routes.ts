/** GET /api/notifications: what was sent to Slack through POST /notify, alertbus notify and alertbus run. */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { channelSpellings } from './channel';
import { readerOf } from './auth';
import { instantMicros } from './instant';
import { redact, redactText } from './redact';
import { BadCursorError, exactTime, likePattern, listDigest, listPage, NOTIFICATION_LIST, readListCursor } from './queries';
import { DEFAULT_LIMIT, ErrorBody, MAX_LIMIT } from './schemas';

const NString = Type.Union([Type.String(), Type.Null()]);
const NDateTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const NotificationQuery = Type.Object(
  {
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    channel: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'The channel it was sent to (#deploys) or the id Slack reported.' }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Requested at or after (ISO 8601 with offset).' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Requested before (ISO 8601 with offset).' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text in the title or text as shown (case-insensitive): hidden credentials are not searched.' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'The `next_cursor` of the previous page.' })),
    limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `Page size, at most ${MAX_LIMIT}.` }),
  },
  { additionalProperties: false },
);
type NotificationQuery = Static<typeof NotificationQuery>;

export const Notification = Type.Object({
  notification_id: Type.String(),
  alias: NString,
  kind: NString,
  tag: NString,
  level: NString,
  title: NString,
  text: NString,
  requested_at: NDateTime,
  sent_by: NString,
  reason: Type.Union([Type.String(), Type.Null()], { description: 'The router\'s decision: first-notification, duplicate, unknown-tag, direct.' }),
  channel: NString,
  slack_channel: NString,
  slack_ts: Type.Union([Type.String(), Type.Null()], { description: 'Set once the slack-sink posted it.' }),
  delivered_at: NDateTime,
});

const NotificationList = Type.Object({
  notifications: Type.Array(Notification),
  limit: Type.Integer(),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

/** The expression notifications_text_idx indexes: `q` must use it verbatim for the index to apply. */
const TEXT_EXPRESSION = `(coalesce(title, '') || ' ' || coalesce(text, ''))`;
const iso = (v: unknown): string | null => (v instanceof Date ? v.toISOString() : null);

/**
 * Newest first, notification_id breaking ties; keyset pages like the incidents'. `q` matches the title and text as
 * `shownText` shows them (see searchedPage).
 */
export async function listNotifications(
  pool: Pool,
  f: Omit<NotificationQuery, 'limit'> & { limit: number },
  shownText: (text: string) => string,
) {
  const where = ['requested_at IS NOT NULL'];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (f.tag !== undefined) where.push(`tag = ${param(f.tag)}`);
  if (f.channel !== undefined) {
    // `batch-crit` and `#batch-crit` alike, as the incidents' filter takes them (the page sends one channel to both).
    const c = param(channelSpellings(f.channel));
    where.push(`(channel = ANY(${c}::text[]) OR slack_channel = ANY(${c}::text[]))`);
  }
  if (f.from !== undefined) where.push(`requested_at >= ${param(f.from)}::timestamptz`);
  if (f.to !== undefined) where.push(`requested_at < ${param(f.to)}::timestamptz`);
  if (f.q !== undefined) where.push(`${TEXT_EXPRESSION} ILIKE ${param(likePattern(f.q))}`);
  const digest = listDigest(NOTIFICATION_LIST, f);
  const { page, nextCursor } = await listPage(pool, {
    where,
    values,
    digest,
    start: f.cursor !== undefined ? readListCursor(f.cursor, digest) : undefined,
    limit: f.limit,
    timeColumn: 'requested_at',
    idColumn: 'notification_id',
    select: (conditions, limit) =>
      `SELECT notification_id, alias, kind, tag, level, title, text, requested_at, sent_by, reason, channel, slack_channel, slack_ts,
              delivered_at, ${exactTime('requested_at')} AS cursor_time
         FROM notifications WHERE ${conditions.join(' AND ')}
        ORDER BY requested_at DESC, notification_id COLLATE "C" LIMIT ${limit}`,
    ...(f.q !== undefined ? { q: f.q } : {}),
    texts: (r) => [r.title, r.text],
    shownText,
  });
  return {
    notifications: page.map(({ cursor_time: _, ...r }) => ({ ...r, requested_at: iso(r.requested_at), delivered_at: iso(r.delivered_at) })),
    nextCursor,
  };
}

export function notificationsRoutes(pool: Pool) {
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get<{ Querystring: NotificationQuery }>(
      '/api/notifications',
      {
        schema: {
          summary: 'List notifications, newest first',
          description:
            'Filters combine (AND). Pages are keyset pages: pass `next_cursor` back as `cursor` with the same filters (the page ' +
            'size may change). A cursor passed with other filters is refused (400), as is one from before cursors recorded their filters.',
          tags: ['notifications'],
          querystring: NotificationQuery,
          response: { 200: NotificationList, 400: ErrorBody },
        },
      },
      async (req, reply) => {
        const { limit, ...filters } = req.query;
        if (filters.from !== undefined && filters.to !== undefined && instantMicros(filters.from) >= instantMicros(filters.to)) {
          return reply.code(400).send({ error: 'bad_request', message: 'invalid query parameters: "from" must be before "to"' });
        }
        try {
          // Their titles and texts are what people sent (a failing job's command line and output): credentials in
          // them are hidden as in the timeline, and a search does not look into them.
          const reader = readerOf(req);
          const page = await listNotifications(pool, { ...filters, limit }, (text) => redactText(text, reader));
          const notifications = page.notifications.map((n) => redact(n, reader) as typeof n);
          return { notifications, limit, next_cursor: page.nextCursor };
        } catch (err) {
          if (err instanceof BadCursorError) return reply.code(400).send({ error: 'bad_request', message: err.message });
          throw err;
        }
      },
    );
  };
}
