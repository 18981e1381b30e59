import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  NOTIFICATION_LEVELS,
  NOTIFICATION_LIMITS,
  notificationRequested,
  type Envelope,
  type NotificationLevel,
  type NotificationRequested,
} from '@alertbus/schemas';
import { writeEvents, type AcceptDeps } from '../accept';
import { HttpError } from '../http-error';
import { structureWithoutBroadcasts, withoutBroadcasts } from '../notify/broadcasts';
import type { DeliveryWaits } from '../notify/delivery-waiter';
import { ownActionProblem } from '../notify/own-actions';
import type { TagBook } from '../notify/tag-book';
import { senderOf } from '../plugins/bearer-auth';
import { ErrorBody } from '../responses';

export interface NotifyDeps {
  accept: AcceptDeps;
  tags: TagBook;
  /** Absent: `sync: true` is answered 503. */
  deliveries?: DeliveryWaits;
  /** NOTIFY_SYNC_TIMEOUT: longest wait for Slack before a sync request is answered 504. */
  syncTimeoutMs: number;
  /**
   * Present when requests need a token: the INGEST_TOKENS names that may POST /notify-directly (INGEST_TOKEN always
   * may). Absent: ingest takes requests without a token (on loopback, or INGEST_ALLOW_OPEN), and so does this route.
   */
  directSenders?: ReadonlySet<string>;
}

/** The permission POST /notify-directly needs, as 403 answers name it. */
export const NOTIFY_DIRECTLY_PERMISSION = 'notify-directly';

export const DEFAULT_NOTIFY_SYNC_TIMEOUT_MS = 10_000;

const L = NOTIFICATION_LIMITS;
/** An enum, so a wrong level is answered with the allowed values. */
const LevelField = Type.Unsafe<NotificationLevel>({ type: 'string', enum: [...NOTIFICATION_LEVELS] });
const IconEmojiField = Type.String({ pattern: '^:[A-Za-z0-9_+\'-]{1,62}:$' });

const NotifyBody = Type.Object(
  {
    tag: Type.String({ minLength: 1, maxLength: L.tag }),
    text: Type.String({ minLength: 1, maxLength: L.text }),
    title: Type.Optional(Type.String({ maxLength: L.title })),
    level: Type.Optional(LevelField),
    sync: Type.Optional(Type.Boolean()),
    dedupKey: Type.Optional(Type.String({ minLength: 1, maxLength: L.dedupKey })),
  },
  { additionalProperties: false },
);

const DirectBody = Type.Object(
  {
    channel: Type.String({ minLength: 1, maxLength: L.channel }),
    text: Type.String({ minLength: 1, maxLength: L.text }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: L.username, description: 'Refused (400): no message may pass for another person or bot.' })),
    icon_emoji: Type.Optional({ ...IconEmojiField, description: 'Refused (400), as username.' }),
    blocks: Type.Optional(Type.Array(Type.Unknown())),
    attachments: Type.Optional(Type.Array(Type.Unknown())),
    sync: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const Accepted = Type.Object({ id: Type.String(), alias: Type.String() });
const Delivered = Type.Union([
  Type.Object({ id: Type.String(), channel: Type.String(), ts: Type.String() }),
  Type.Object({ id: Type.String(), duplicate: Type.Literal(true) }, { description: 'A notification with this tag and dedupKey was posted before.' }),
]);
const NotYet = Type.Object({ error: Type.String(), message: Type.String(), id: Type.String() });
const responses = { 200: Delivered, 202: Accepted, 502: NotYet, 504: NotYet, '4xx': ErrorBody, '5xx': ErrorBody };

/** `blocks` / `attachments` of a pass-through message: arrays of objects (blocks with a string `type`), bounded in count and size. */
export function passThroughProblem(name: 'blocks' | 'attachments', list: readonly unknown[] | undefined): string | null {
  if (list === undefined) return null;
  const max = name === 'blocks' ? L.blocks : L.attachments;
  if (list.length > max) return `${name} has ${list.length} entries, more than the ${max} Slack accepts`;
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return `${name}[${i}] must be an object`;
    if (name === 'blocks' && typeof (item as { type?: unknown }).type !== 'string') return `blocks[${i}] must have a string "type"`;
  }
  const size = JSON.stringify(list).length;
  if (size > L.blocksChars) return `${name} come to ${size} characters as JSON, more than the ${L.blocksChars} accepted`;
  return null;
}

/** The request's id: its Idempotency-Key (per sender) when it has one, so a retried request writes the same fact. */
function requestIdOf(req: FastifyRequest, deps: AcceptDeps): string {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') return deps.newId();
  if (key.length > 200 || !/^[\x21-\x7e]+$/.test(key)) {
    throw new HttpError(400, 'invalid_payload', 'Idempotency-Key must be 1-200 printable ASCII characters without spaces');
  }
  return `${senderOf(req) ?? ''}:${key}`;
}

/**
 * POST /notify (a message to a tag's channel) and POST /notify-directly (a message the sender built, to a
 * channel, for INGEST_TOKEN and the senders of INGEST_NOTIFY_DIRECTLY; it notifies no channel or user group):
 * written to notifications.v1 and answered 202 once Kafka acknowledged it; with `sync: true`, answered 200 with
 * the Slack ts once the slack-sink posted it (504 with the id when that takes too long).
 */
export const notifyRoutes: FastifyPluginAsyncTypebox<NotifyDeps> = async (app, deps) => {
  const send = async (req: FastifyRequest, reply: FastifyReply, event: Envelope<'NotificationRequested'>) => {
    const sync = event.data.sync === true;
    if (sync && !deps.deliveries) throw new HttpError(503, 'kafka_unavailable', 'sync notifications are not available on this ingest');
    const waiting = sync ? deps.deliveries!.wait(event.id, deps.syncTimeoutMs) : undefined;
    try {
      if (waiting) {
        await waiting.reading.catch((err: Error) => {
          throw new HttpError(503, 'kafka_unavailable', `sync notifications cannot be followed now: ${err.message}`);
        });
      }
      await writeEvents(deps.accept, [event], { what: 'notification', timeoutMs: deps.accept.kafkaTimeoutMs, timeoutVariable: 'INGEST_KAFKA_TIMEOUT_MS' });
    } catch (err) {
      waiting?.cancel();
      throw err;
    }
    if (!waiting) return reply.code(202).send({ id: event.id, alias: event.alias });
    const result = await waiting.result;
    switch (result.outcome) {
      case 'posted':
        return reply.code(200).send({ id: event.id, channel: result.channel, ts: result.ts });
      case 'duplicate':
        return reply.code(200).send({ id: event.id, duplicate: true });
      case 'failed':
        return reply.code(502).send({ error: 'delivery_failed', message: `Slack did not take the notification: ${result.error}`, id: event.id });
      case 'timeout':
        return reply.code(504).send({
          error: 'timeout',
          message: `the notification is recorded (id ${event.id}) but was not posted within ${deps.syncTimeoutMs} ms (NOTIFY_SYNC_TIMEOUT); it will still be posted`,
          id: event.id,
        });
    }
  };

  app.post('/notify', { schema: { body: NotifyBody, response: responses } }, async (req, reply) => {
    const body = req.body;
    const tags = deps.tags.current();
    if (!Object.prototype.hasOwnProperty.call(tags, body.tag)) {
      const known = Object.keys(tags).sort();
      throw new HttpError(
        400,
        'invalid_payload',
        `unknown tag "${body.tag}"; known tags: ${known.length > 0 ? known.join(', ') : `(none: ${deps.tags.whyNone()})`}`,
      );
    }
    const sender = senderOf(req);
    const event = notificationRequested(
      {
        kind: 'tag',
        tag: body.tag,
        level: body.level ?? 'info',
        text: body.text,
        ...(body.title !== undefined && body.title !== '' ? { title: body.title } : {}),
        ...(body.dedupKey !== undefined ? { dedupKey: body.dedupKey } : {}),
        ...(body.sync ? { sync: true } : {}),
        requestId: requestIdOf(req, deps.accept),
        ...(sender !== undefined ? { authenticatedAs: sender } : {}),
      },
      deps.accept.now().toISOString(),
    );
    return send(req, reply, event);
  });

  /** Before the body is read: a sender without the permission learns it whatever it sent. */
  const mayPostDirectly = async (req: FastifyRequest) => {
    const sender = senderOf(req);
    // No name with tokens required: INGEST_TOKEN, the admin token.
    if (!deps.directSenders || sender === undefined || deps.directSenders.has(sender)) return;
    throw new HttpError(
      403,
      'forbidden',
      `sender "${sender}" lacks the ${NOTIFY_DIRECTLY_PERMISSION} permission: its token may POST /notify to a tag; ` +
        `to post messages it builds, add "${sender}" to INGEST_NOTIFY_DIRECTLY`,
    );
  };

  app.post('/notify-directly', { schema: { body: DirectBody, response: responses }, onRequest: mayPostDirectly }, async (req, reply) => {
    const body = req.body;
    // The app's name and icon on every direct message, so none passes for a person or another bot (a tag may set its own).
    for (const field of ['username', 'icon_emoji'] as const) {
      if (body[field] !== undefined) {
        throw new HttpError(
          400,
          'invalid_payload',
          `${field} is not accepted by /notify-directly: its messages are posted under the app's own name and icon, so none can ` +
            'pass for a person or another bot; a tag of the rules file (tags:, POST /notify) may set username and icon_emoji',
        );
      }
    }
    const text = withoutBroadcasts(body.text);
    if ([...text].length > L.text) {
      throw new HttpError(400, 'invalid_payload', `text comes to more than ${L.text} characters once its @channel, @here and user-group mentions are escaped`);
    }
    const blocks = body.blocks === undefined ? undefined : (structureWithoutBroadcasts(body.blocks, 'blocks') as unknown[]);
    const attachments = body.attachments === undefined ? undefined : (structureWithoutBroadcasts(body.attachments, 'attachments') as unknown[]);
    const problem =
      passThroughProblem('blocks', blocks) ??
      passThroughProblem('attachments', attachments) ??
      ownActionProblem('blocks', blocks) ??
      ownActionProblem('attachments', attachments);
    if (problem) throw new HttpError(400, 'invalid_payload', problem);
    const sender = senderOf(req);
    const event = notificationRequested(
      {
        kind: 'direct',
        channel: body.channel,
        level: 'info',
        text,
        ...(blocks !== undefined ? { blocks: blocks as NotificationRequested['blocks'] } : {}),
        ...(attachments !== undefined ? { attachments: attachments as NotificationRequested['attachments'] } : {}),
        ...(body.sync ? { sync: true } : {}),
        requestId: requestIdOf(req, deps.accept),
        ...(sender !== undefined ? { authenticatedAs: sender } : {}),
      },
      deps.accept.now().toISOString(),
    );
    return send(req, reply, event);
  });
};
