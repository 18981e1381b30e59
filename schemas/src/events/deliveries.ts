import { Type, type Static } from '@sinclair/typebox';
import { PagerPriority } from '../common';
import { Id, Timestamp } from './shared';

// ---------------------------------------------------------------- deliveries (sinks → history)

const WouldSend = Type.Object(
  { method: Type.String(), body: Type.Unknown() },
  { additionalProperties: false, description: 'Dry-run: the request the sink would have sent.' },
);

const deliveryBase = {
  commandId: Id,
  commandType: Type.String(),
  incidentId: Id,
  dryRun: Type.Boolean(),
  attempts: Type.Integer({ minimum: 0 }),
  request: Type.Optional(WouldSend),
};

/** The result of a Slack command on an incident's message. */
const slackDelivery = (description: string) =>
  Type.Object(
    {
      ...deliveryBase,
      channel: Type.String(),
      ts: Type.String(),
      threadTs: Type.Optional(Type.String()),
      purpose: Type.Optional(Type.Union([Type.Literal('root'), Type.Literal('reply')])),
    },
    { additionalProperties: false, description },
  );
export const SlackMessagePosted = slackDelivery('PostSlackMessage done: the root or reply is in the channel.');
export const SlackMessageUpdated = slackDelivery('UpdateSlackMessage done: the root message was replaced.');

/** The result of a pager command. */
const pagerDelivery = (description: string) =>
  Type.Object(
    {
      ...deliveryBase,
      provider: Type.Union([Type.Literal('opsgenie'), Type.Literal('jsm')]),
      requestId: Type.Optional(Type.String()),
      alertId: Type.Optional(Type.String()),
    },
    { additionalProperties: false, description },
  );
export const PagerAlertCreated = pagerDelivery('CreatePagerAlert accepted by the pager.');
export const PagerAlertClosed = pagerDelivery('ClosePagerAlert accepted by the pager.');
export const PagerAlertAcknowledged = pagerDelivery('AcknowledgePagerAlert accepted by the pager.');
export const PagerNoteAdded = pagerDelivery('AddPagerNote accepted by the pager.');
export const PagerPriorityUpdated = Type.Object(
  {
    ...deliveryBase,
    provider: Type.Union([Type.Literal('opsgenie'), Type.Literal('jsm')]),
    requestId: Type.Optional(Type.String()),
    alertId: Type.Optional(Type.String()),
    priority: PagerPriority,
    changed: Type.Boolean({
      description: "Whether the pager changed the alert's priority: false with JSM, whose integration API cannot, and when no alert with the alias was open.",
    }),
  },
  { additionalProperties: false, description: 'UpdatePagerPriority done.' },
);
export const DeliveryFailed = Type.Object(
  {
    commandId: Id,
    commandType: Type.String(),
    incidentId: Type.Optional(Id),
    target: Type.Union([Type.Literal('slack'), Type.Literal('pager')]),
    error: Type.String(),
    httpStatus: Type.Optional(Type.Integer()),
    permanent: Type.Boolean(),
    attempts: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export const DeliveryDelayed = Type.Object(
  {
    commandId: Id,
    commandType: Type.String(),
    incidentId: Type.Optional(Id),
    target: Type.Union([Type.Literal('slack'), Type.Literal('pager')]),
    attempts: Type.Integer({ minimum: 1, description: 'Attempts made so far (across restarts).' }),
    lastError: Type.String({ description: 'Why the last attempt failed (429, 5xx, network).' }),
    httpStatus: Type.Optional(Type.Integer()),
    retryAfterMs: Type.Optional(Type.Integer({ minimum: 0, description: 'The Retry-After the API asked for, when it did.' })),
    nextAttemptAt: Timestamp,
    firstAttemptAt: Timestamp,
    budgetEndsAt: Timestamp,
  },
  {
    additionalProperties: false,
    description:
      'A delivery failed in a way worth retrying and waits for its next try; later commands of its partition wait behind it. ' +
      'Only a spent budget (DELIVERY_RETRY_BUDGET) or a permanent failure ends in DeliveryFailed.',
  },
);
/** The result of a command that may belong to no incident (so incidentId is optional). */
const answerDeliveryBase = {
  commandId: Id,
  commandType: Type.String(),
  incidentId: Type.Optional(Id),
  dryRun: Type.Boolean(),
  attempts: Type.Integer({ minimum: 0 }),
  request: Type.Optional(WouldSend),
};

/** The result of a command answered in a thread of a channel (no incident root involved). */
const slackThreadDeliveryBase = {
  ...answerDeliveryBase,
  channel: Type.String(),
  ts: Type.String({ description: 'ts of the (last) message posted.' }),
  threadTs: Type.String(),
};

export const SlackReplyDelivery = Type.Object({ ...slackThreadDeliveryBase }, { additionalProperties: false });

export const SlackEphemeralDelivery = Type.Object(
  {
    ...answerDeliveryBase,
    channel: Type.String(),
    user: Type.String(),
    messageTs: Type.Optional(Type.String({ description: 'What chat.postEphemeral answered (ephemeral messages have no lasting ts); absent through the response_url.' })),
    via: Type.Optional(Type.Union([Type.Literal('response_url'), Type.Literal('chat.postEphemeral')], { description: 'How it was shown; absent: chat.postEphemeral.' })),
  },
  { additionalProperties: false, description: 'PostSlackEphemeral done: the person was shown the answer.' },
);
export const CommandWebhookDelivery = Type.Object(
  {
    ...slackThreadDeliveryBase,
    url: Type.String({ description: 'The webhook, without its query string.' }),
    outcome: Type.Union([Type.Literal('answered'), Type.Literal('failed'), Type.Literal('dry-run')]),
    httpStatus: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.String({ description: 'Why the webhook gave no answer (told in the thread too).' })),
  },
  { additionalProperties: false, description: 'CallCommandWebhook done: the webhook was called once and its answer (or the failure) posted.' },
);
export type SlackEphemeralDelivery = Static<typeof SlackEphemeralDelivery>;
export type CommandWebhookDelivery = Static<typeof CommandWebhookDelivery>;

export const OnCallOutcome = Type.Union(
  [Type.Literal('mentioned'), Type.Literal('nobody-on-call'), Type.Literal('last-known'), Type.Literal('lookup-failed'), Type.Literal('dry-run')],
  {
    description:
      'What the reply said: who is on call, that nobody is, who was on call when last looked up (the lookup failed in a way worth retrying; error says why, knownAt when), or that the lookup failed (error says why).',
  },
);
export type OnCallOutcome = Static<typeof OnCallOutcome>;

export const OnCallReplyDelivery = Type.Object(
  {
    ...slackThreadDeliveryBase,
    acknowledgementTs: Type.String({ description: 'ts of the acknowledgement posted first.' }),
    schedule: Type.String(),
    outcome: OnCallOutcome,
    emails: Type.Array(Type.String(), { description: 'On-call usernames (emails) from the schedule.' }),
    slackUserIds: Type.Array(Type.String(), { description: 'The Slack users mentioned.' }),
    unmatchedEmails: Type.Array(Type.String(), { description: 'On-call emails with no Slack user.' }),
    cached: Type.Boolean({ description: 'The on-call came from the cache (no Opsgenie call).' }),
    error: Type.Optional(Type.String()),
    knownAt: Type.Optional(Type.String({ format: 'date-time', description: 'last-known: when that on-call answer was found.' })),
  },
  { additionalProperties: false },
);
export const OnCallCacheDelivery = Type.Object(
  { ...slackThreadDeliveryBase, cleared: Type.Array(Type.String(), { description: 'Schedules removed from the cache.' }) },
  { additionalProperties: false },
);
export const SlackUserGroupUpdated = Type.Object(
  {
    usergroup: Type.String({ minLength: 1 }),
    schedule: Type.String({ minLength: 1 }),
    users: Type.Array(Type.String(), { description: 'The members set (the whole list).' }),
    previousUsers: Type.Array(Type.String()),
    emails: Type.Array(Type.String()),
    unmatchedEmails: Type.Array(Type.String()),
  },
  {
    additionalProperties: false,
    description: 'The on-call user group job replaced the group\'s members. Alias: slack-usergroup:{usergroup}.',
  },
);
export const NotificationPosted = Type.Object(
  {
    commandId: Id,
    commandType: Type.String(),
    notificationId: Id,
    dryRun: Type.Boolean(),
    attempts: Type.Integer({ minimum: 0 }),
    request: Type.Optional(WouldSend),
    incidentId: Type.Optional(Type.String({ description: 'Never set: a notification belongs to no incident (the sinks copy the field).' })),
    channel: Type.String(),
    ts: Type.String(),
  },
  { additionalProperties: false, description: 'The slack-sink posted a notification (ts is the message\'s).' },
);
export type NotificationPosted = Static<typeof NotificationPosted>;
export const SlashCommandAnswered = Type.Object(
  {
    ...answerDeliveryBase,
    responseType: Type.Union([Type.Literal('ephemeral'), Type.Literal('in_channel')]),
    kind: Type.String({ description: 'The answer\'s kind (text, oncall, incidents, silences).' }),
    outcome: Type.Optional(OnCallOutcome),
  },
  { additionalProperties: false, description: 'The slack-sink posted a slash command\'s answer to its response_url.' },
);
export type SlashCommandAnswered = Static<typeof SlashCommandAnswered>;
export type SlackReplyDelivery = Static<typeof SlackReplyDelivery>;
export type OnCallReplyDelivery = Static<typeof OnCallReplyDelivery>;
export type OnCallCacheDelivery = Static<typeof OnCallCacheDelivery>;
export type SlackUserGroupUpdated = Static<typeof SlackUserGroupUpdated>;
export type SlackMessagePosted = Static<typeof SlackMessagePosted>;
export type SlackMessageUpdated = Static<typeof SlackMessageUpdated>;
/** Any Slack message delivery (posted and updated have one shape). */
export type SlackDelivery = SlackMessagePosted | SlackMessageUpdated;
export type PagerAlertCreated = Static<typeof PagerAlertCreated>;
export type PagerAlertClosed = Static<typeof PagerAlertClosed>;
export type PagerAlertAcknowledged = Static<typeof PagerAlertAcknowledged>;
export type PagerNoteAdded = Static<typeof PagerNoteAdded>;
export type PagerPriorityUpdated = Static<typeof PagerPriorityUpdated>;
/** Any pager delivery (the four results have one shape). */
export type PagerDelivery = PagerAlertCreated | PagerAlertClosed | PagerAlertAcknowledged | PagerNoteAdded | PagerPriorityUpdated;
export type DeliveryFailed = Static<typeof DeliveryFailed>;
export type DeliveryDelayed = Static<typeof DeliveryDelayed>;
