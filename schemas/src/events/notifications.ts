import { Type, type Static } from '@sinclair/typebox';
import { RuleRef } from '../common';
import { Id } from './shared';

/**
 * Notifications: messages a team sends to a channel (deploy notices, batch-job failures, cron output). They
 * are facts on notifications.v1 like every input, but never incidents: they never page, and only an explicit
 * dedupKey makes two of them one.
 */

/** Limits of what a sender may give, so one notification always fits a Slack message and a Kafka record. */
export const NOTIFICATION_LIMITS = {
  tag: 64,
  text: 12_000,
  title: 150,
  dedupKey: 200,
  channel: 80,
  username: 80,
  iconEmoji: 64,
  blocks: 50,
  /** Serialised characters of blocks (and, separately, of attachments). */
  blocksChars: 12_000,
  attachments: 20,
} as const;

export const NOTIFICATION_LEVELS = ['info', 'good', 'warn', 'crit'] as const;
export const NotificationLevel = Type.Union(
  NOTIFICATION_LEVELS.map((l) => Type.Literal(l)),
  { description: 'info | good | warn | crit: colours the message (and picks the tag\'s level_channels entry).' },
);
export type NotificationLevel = Static<typeof NotificationLevel>;

export const TAG_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const TagName = Type.String({ pattern: TAG_NAME_PATTERN, description: 'A notification tag: letters, digits, . _ -; at most 64.' });

export const SlackChannelRef = Type.String({ minLength: 1, maxLength: NOTIFICATION_LIMITS.channel, description: 'A Slack channel name (#deploys) or id (C0123).' });
export const Username = Type.String({ minLength: 1, maxLength: NOTIFICATION_LIMITS.username });
export const IconEmoji = Type.String({ pattern: '^:[A-Za-z0-9_+\'-]{1,62}:$', description: 'An emoji code such as :rocket:.' });

/** A block of a pass-through message: an object with a string `type`; its other fields are Slack's business. */
export const SlackBlockShape = Type.Object({ type: Type.String({ minLength: 1, maxLength: 50 }) }, { additionalProperties: true });

export const NotificationRequested = Type.Object(
  {
    notificationId: Id,
    kind: Type.Union([Type.Literal('tag'), Type.Literal('direct')], {
      description: 'tag: POST /notify (the router picks the channel from the tag); direct: POST /notify-directly (channel given).',
    }),
    tag: Type.Optional(TagName),
    channel: Type.Optional(SlackChannelRef),
    level: NotificationLevel,
    title: Type.Optional(Type.String({ maxLength: NOTIFICATION_LIMITS.title })),
    text: Type.String({ minLength: 1, maxLength: NOTIFICATION_LIMITS.text }),
    dedupKey: Type.Optional(Type.String({ minLength: 1, maxLength: NOTIFICATION_LIMITS.dedupKey })),
    username: Type.Optional(Username),
    iconEmoji: Type.Optional(IconEmoji),
    blocks: Type.Optional(Type.Array(SlackBlockShape, { maxItems: NOTIFICATION_LIMITS.blocks })),
    attachments: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: NOTIFICATION_LIMITS.attachments })),
    sync: Type.Optional(Type.Boolean({ description: 'The sender waited for the Slack post (POST /notify {sync: true}).' })),
    requestId: Type.String({ minLength: 1, maxLength: 300, description: 'Idempotency-Key of the request (with the sender), else a fresh id.' }),
    authenticatedAs: Type.Optional(Type.String({ minLength: 1 })),
  },
  {
    additionalProperties: false,
    description:
      'Someone asked alertbus to tell a channel something. Envelope alias (and key) = notify:{notificationId}, or ' +
      'notify:{tag}:{dedupKey} when the sender gave a dedupKey; the id is derived from the request id.',
  },
);
export type NotificationRequested = Static<typeof NotificationRequested>;

export const NotificationReason = Type.Union(
  [Type.Literal('first-notification'), Type.Literal('duplicate'), Type.Literal('unknown-tag'), Type.Literal('direct')],
  {
    description:
      'first-notification: posted to the tag\'s channel; duplicate: a notification with the same tag and dedupKey was posted ' +
      'already; unknown-tag: the router\'s rules have no such tag (posted to SLACK_DEFAULT_CHANNEL); direct: posted as sent.',
  },
);
export type NotificationReason = Static<typeof NotificationReason>;

export const NotificationRouted = Type.Object(
  {
    notificationId: Id,
    inputId: Id,
    reason: NotificationReason,
    rule: RuleRef,
    tag: Type.Optional(TagName),
    level: NotificationLevel,
    channel: Type.Optional(Type.String({ description: 'Where it is posted; absent for a duplicate.' })),
    commandId: Type.Optional(Id),
    duplicateOf: Type.Optional(Type.String({ description: 'Duplicates: the input id of the notification posted before.' })),
  },
  { additionalProperties: false, description: 'The router\'s decision about a notification (on notifications.v1, same key).' },
);
export type NotificationRouted = Static<typeof NotificationRouted>;

/** The alias (Kafka key) of a notification: its own id, or tag and dedupKey when the sender wants those deduplicated. */
export function notificationAlias(n: { notificationId: string; tag?: string; dedupKey?: string }): string {
  return n.dedupKey !== undefined && n.tag !== undefined ? `notify:${n.tag}:${n.dedupKey}` : `notify:${n.notificationId}`;
}
