import { Type, type Static } from '@sinclair/typebox';
import { RuleRef } from '../common';
import { Id, slackTs, commandBase } from './shared';

// ---------------------------------------------------------------- Slack commands (router → slack-sink)

/** Which workspace's bot token the slack-sink uses; absent → SLACK_BOT_TOKEN (the single-workspace setting). */
const slackTeam = {
  teamId: Type.Optional(Type.String({ minLength: 1, description: 'Slack workspace (team id) to act in, with its installation\'s token.' })),
};

export const PostSlackMessage = Type.Object(
  {
    ...commandBase,
    ...slackTeam,
    channel: Type.String({ minLength: 1 }),
    purpose: Type.Union([Type.Literal('root'), Type.Literal('reply')], {
      description: 'root: the incident thread\'s first message; reply: a message in that thread.',
    }),
    text: Type.String({ minLength: 1, description: 'Plain-text fallback (notifications, screen readers).' }),
    blocks: Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false },
);
export const UpdateSlackMessage = Type.Object(
  {
    ...commandBase,
    ...slackTeam,
    text: Type.String({ minLength: 1 }),
    blocks: Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false, description: 'Replace the incident root message in place.' },
);

/** Where a Slack command answers: a thread of a channel, not an incident root (see PostSlackMessage for those). */
const slackThreadTarget = {
  ...slackTeam,
  channel: Type.String({ minLength: 1, description: 'Channel id of the message being answered.' }),
  threadTs: slackTs('Thread to answer in: the message\'s threadTs when it is a reply, else its own ts.'),
};

export const ReplyWithOnCall = Type.Object(
  {
    incidentId: Type.Optional(Id),
    rule: RuleRef,
    ...slackThreadTarget,
    schedule: Type.String({ minLength: 1, description: 'Opsgenie schedule name whose on-call people are mentioned.' }),
    requester: Type.Optional(Type.String({ description: 'Slack user id of who asked ({requester} in replyTemplate).' })),
    acknowledgement: Type.String({ minLength: 1, description: 'Posted first, e.g. "Looking for the on-call…".' }),
    replyTemplate: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Text of the reply when someone is on call; {mentions}, {schedule} and {requester} are replaced.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      'Answer in a thread: post the acknowledgement, find the schedule\'s on-call (Opsgenie who-is-on-call → emails → Slack ' +
      'users by email, cached), then post a reply mentioning them (or saying nobody is on call / the lookup failed).',
  },
);
export const ClearOnCallCache = Type.Object(
  {
    rule: RuleRef,
    ...slackThreadTarget,
    requestedBy: Type.String({ minLength: 1, description: 'Slack user id of who asked.' }),
    schedule: Type.Optional(Type.String({ minLength: 1, description: 'Only this schedule; absent = every cached schedule.' })),
  },
  { additionalProperties: false, description: 'Empty the on-call cache and confirm in the thread.' },
);
export const PostSlackReply = Type.Object(
  {
    incidentId: Type.Optional(Id),
    rule: RuleRef,
    ...slackThreadTarget,
    text: Type.String({ minLength: 1, description: 'Plain-text fallback (notifications, screen readers).' }),
    blocks: Type.Optional(Type.Array(Type.Unknown())),
  },
  { additionalProperties: false, description: 'A reply in a given thread (command answers such as help), not tied to an incident root.' },
);
export const PostSlackEphemeral = Type.Object(
  {
    incidentId: Type.Optional(Id),
    rule: RuleRef,
    ...slackTeam,
    channel: Type.String({ minLength: 1, description: 'Channel id the person acted in.' }),
    user: Type.String({ minLength: 1, description: 'Slack user id of the only person who sees it.' }),
    threadTs: Type.Optional(slackTs('Thread to show it in; absent: the channel itself (a click on a root message).')),
    text: Type.String({ minLength: 1, maxLength: 3000 }),
    responseUrl: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2000,
        description:
          'The response_url of the click answered: shown there first, as it reaches the person even in a channel they are not a member of ' +
          '(chat.postEphemeral then answers user_not_in_channel). Absent for text typed in a thread.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'An answer only that person sees (a refusal), not kept in the channel\'s history: at the click\'s response_url, else chat.postEphemeral.',
  },
);

/** What alertbus POSTs to a `commands:` entry's webhook (signed: see the README, X-Alertbus-Signature). */
export const CommandWebhookRequest = Type.Object(
  {
    command: Type.String({ minLength: 1, description: 'The entry: its name, else its path (commands.handlers[2]).' }),
    text: Type.String({ description: 'The text after the mention, as Slack sent it.' }),
    groups: Type.Record(Type.String(), Type.String(), { description: 'The pattern\'s named groups.' }),
    user: Type.String({ minLength: 1 }),
    userGroups: Type.Optional(Type.Array(Type.String())),
    team: Type.String({ minLength: 1 }),
    channel: Type.String({ minLength: 1 }),
    threadTs: slackTs('The thread the answer goes to.'),
    messageTs: slackTs('The message\'s own ts.'),
  },
  { additionalProperties: false },
);
export type CommandWebhookRequest = Static<typeof CommandWebhookRequest>;

export const CallCommandWebhook = Type.Object(
  {
    rule: RuleRef,
    ...slackThreadTarget,
    url: Type.String({ minLength: 1, description: 'The entry\'s webhook.url (http or https).' }),
    timeoutMs: Type.Integer({ minimum: 1, maximum: 60_000 }),
    request: CommandWebhookRequest,
  },
  {
    additionalProperties: false,
    description:
      'POST the signed request to the webhook once, and answer in the thread with its JSON `text` (escaped, bounded), or say why it failed.',
  },
);
export type PostSlackEphemeral = Static<typeof PostSlackEphemeral>;
export type CallCommandWebhook = Static<typeof CallCommandWebhook>;

export const PostNotification = Type.Object(
  {
    notificationId: Id,
    rule: RuleRef,
    channel: Type.String({ minLength: 1 }),
    text: Type.Optional(
      Type.String({ minLength: 1, description: 'Top-level text; absent when the attachments carry the message (their fallback is then shown).' }),
    ),
    blocks: Type.Optional(Type.Array(Type.Unknown())),
    attachments: Type.Optional(Type.Array(Type.Unknown())),
    username: Type.Optional(Type.String({ minLength: 1 })),
    iconEmoji: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false, description: 'Post a notification as a message of its own (never in an incident thread).' },
);
export const AnswerSlashCommand = Type.Object(
  {
    incidentId: Type.Optional(Id),
    rule: RuleRef,
    ...slackTeam,
    responseUrl: Type.String({ minLength: 1, maxLength: 2000, description: 'The slash command\'s response_url.' }),
    responseType: Type.Union([Type.Literal('ephemeral'), Type.Literal('in_channel')], {
      description: 'ephemeral: only who asked sees it (the default); in_channel: `--public` was given.',
    }),
    requester: Type.String({ minLength: 1, description: 'Slack user id of who asked.' }),
    channel: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The channel the command was typed in: where its answer goes through the Web API when the response_url cannot be ' +
          'reached (absent on older records: then to who asked directly).',
      }),
    ),
    answer: Type.Union(
      [
        Type.Object({ kind: Type.Literal('text'), text: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        Type.Object({ kind: Type.Literal('oncall'), schedule: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
        Type.Object(
          { kind: Type.Literal('incidents'), filter: Type.Union([Type.Literal('open'), Type.Literal('mine')]) },
          { additionalProperties: false },
        ),
        Type.Object({ kind: Type.Literal('silences') }, { additionalProperties: false }),
      ],
      {
        description:
          'text: as decided; oncall: the schedule\'s on-call as mentions; incidents / silences: read from the history API when ' +
          'the answer is sent.',
      },
    ),
  },
  { additionalProperties: false, description: 'Answer a slash command at its response_url.' },
);
export type AnswerSlashCommand = Static<typeof AnswerSlashCommand>;
export type PostNotification = Static<typeof PostNotification>;
export type ReplyWithOnCall = Static<typeof ReplyWithOnCall>;
export type ClearOnCallCache = Static<typeof ClearOnCallCache>;
export type PostSlackReply = Static<typeof PostSlackReply>;
export type PostSlackMessage = Static<typeof PostSlackMessage>;
export type UpdateSlackMessage = Static<typeof UpdateSlackMessage>;
