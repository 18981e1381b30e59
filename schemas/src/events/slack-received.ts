import { Type, type Static } from '@sinclair/typebox';
import { Id, Timestamp, Sanitised, slackTs } from './shared';

// ---------------------------------------------------------------- Slack inputs (ingest → router)

/** Carried by every Slack input that someone made, for the rules file's `permissions:`. */
const ActorGroups = Type.Optional(
  Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
    maxItems: 500,
    description:
      'Handles of the Slack user groups the actor belonged to when ingest received it (usergroups.list, cached), so the ' +
      'router checks `permissions:` without asking Slack and a replay decides the same; absent when unknown.',
  }),
);

export const SlackMessageKind = Type.Union(
  [Type.Literal('mention'), Type.Literal('dm'), Type.Literal('edit'), Type.Literal('delete'), Type.Literal('message')],
  {
    description:
      'mention: app_mention; dm: a message in a direct conversation with the app (message.im); edit: message_changed; ' +
      'delete: message_deleted (or the tombstone left when a thread parent is deleted); message: any other channel message ' +
      'the app is subscribed to (a mention in a channel arrives both as mention and as message, with the same alias).',
  },
);
export type SlackMessageKind = Static<typeof SlackMessageKind>;

export const SlackMessageReceived = Type.Object(
  {
    kind: SlackMessageKind,
    team: Type.String({ minLength: 1, description: 'Workspace id the event was delivered for (the event_callback team_id).' }),
    channel: Type.String({ minLength: 1, description: 'Channel id (C…, G…, D… for DMs).' }),
    channelType: Type.String({
      minLength: 1,
      description: 'channel | group | im | mpim as Slack sends it; "unknown" when Slack omits it (app_mention does).',
    }),
    user: Type.Optional(Type.String({ description: 'Author of the message (for edits and deletes: of the original message).' })),
    userName: Type.Optional(Type.String({ description: 'The author\'s display name from users.info, when ingest could learn it in time.' })),
    userGroups: ActorGroups,
    botId: Type.Optional(
      Type.String({ description: 'Set when another app or bot wrote the message; the app\'s own messages never get this far.' }),
    ),
    text: Type.String({ description: 'The message text as Slack sends it (mentions as <@U…>); for an edit the new text; "" for a delete.' }),
    previousText: Type.Optional(Type.String({ description: 'Edits and deletes: the text before.' })),
    ts: slackTs('The message\'s own ts; for edits and deletes the ORIGINAL message\'s ts (so they share its alias).'),
    threadTs: Type.Optional(
      slackTs('Root ts of the thread the message is a reply in; absent for a top-level message. Answer in thread_ts = threadTs ?? ts.'),
    ),
    eventId: Type.String({ minLength: 1, description: 'Slack\'s event_id (differs between deliveries of the same message; never a dedup key alone).' }),
    eventTime: Timestamp,
    eventTs: Type.Optional(Type.String({ description: 'The inner event_ts, as sent (for edits and deletes: when the change happened).' })),
    retryNum: Type.Optional(Type.Integer({ minimum: 0, description: 'X-Slack-Retry-Num: this is Slack\'s n-th redelivery.' })),
    retryReason: Type.Optional(Type.String({ description: 'X-Slack-Retry-Reason, e.g. http_timeout.' })),
    apiAppId: Type.Optional(Type.String()),
    permalink: Type.Optional(
      Type.String({ description: 'Link to the message (workspace URL from auth.test or SLACK_WORKSPACE_URL); absent when unknown.' }),
    ),
    target: Type.Optional(
      Type.Object(
        { incidentId: Id, alias: Type.String({ minLength: 1, maxLength: 512 }) },
        {
          additionalProperties: false,
          description:
            '`ack` / `resolve <incident id>` by mention or DM: the incident\'s alias, which ingest asked the history API for and ' +
            'keyed the message by; absent in records written before ingest looked ids up (keyed by the message, they only say how).',
        },
      ),
    ),
    targetProblem: Type.Optional(
      Type.String({
        maxLength: 500,
        description: 'Why ingest could not find the alias of the incident id named (unknown id, history API unreachable); keyed by the message.',
      }),
    ),
    sanitised: Type.Optional(Sanitised),
    raw: Type.Unknown({ description: 'The whole event_callback body as received (text cleaned as `sanitised` says).' }),
  },
  {
    additionalProperties: false,
    description:
      'A Slack message the app was told about. Envelope alias (and Kafka key) = slack:{team}:{channel}:{ts}, the message\'s own ' +
      'ts even for a reply in a thread, so redeliveries, edits and deletes of one message share one alias; a mention or DM ' +
      '`ack|resolve <alias>` (or an incident id ingest found: `target`) is keyed by the incident\'s alias instead.',
  },
);
export type SlackMessageReceived = Static<typeof SlackMessageReceived>;

export const SlackButtonValue = Type.Object(
  { alias: Type.String({ minLength: 1, maxLength: 512 }), incidentId: Id },
  {
    additionalProperties: false,
    description:
      'What alertbus puts (JSON-encoded) in the value of its buttons: {"alias": "<incident alias>", "incidentId": "<id>"}. ' +
      'Action ids: alertbus_ack (Acknowledge), alertbus_resolve (Resolve). Slack allows 2000 characters per value.',
  },
);
export type SlackButtonValue = Static<typeof SlackButtonValue>;

export const SlackActionReceived = Type.Object(
  {
    actionId: Type.String({ minLength: 1 }),
    blockId: Type.Optional(Type.String()),
    actionType: Type.String({ description: 'Block element type, e.g. button.' }),
    value: Type.Optional(Type.String({ description: 'The element\'s value as sent (see SlackButtonValue).' })),
    incidentId: Type.Optional(Type.String({ description: 'From the value, when it is an alertbus button value.' })),
    user: Type.Object(
      { id: Type.String({ minLength: 1 }), name: Type.Optional(Type.String()) },
      { additionalProperties: false, description: 'Who clicked.' },
    ),
    userGroups: ActorGroups,
    team: Type.String({ minLength: 1 }),
    channel: Type.String({ minLength: 1 }),
    messageTs: Type.String({ description: 'ts of the message that carries the button (the incident root message).' }),
    threadTs: Type.Optional(Type.String({ description: 'When that message is itself a reply in a thread.' })),
    actionTs: Type.Optional(Type.String()),
    responseUrl: Type.Optional(Type.String()),
    triggerId: Type.Optional(Type.String()),
    sanitised: Type.Optional(Sanitised),
    raw: Type.Unknown({ description: 'The whole interaction payload (the JSON of the payload form field; text cleaned as `sanitised` says).' }),
  },
  {
    additionalProperties: false,
    description:
      'One action of a block_actions interaction on a message. Envelope alias = the incident alias carried in the button value ' +
      '(SlackButtonValue); for a value that is not one, slack:{team}:{channel}:{messageTs}.',
  },
);
export type SlackActionReceived = Static<typeof SlackActionReceived>;

// ---------------------------------------------------------------- Slack threads (router → router)

export const SlackThreadLinked = Type.Object(
  {
    channel: Type.String({ minLength: 1, description: 'Channel id of the thread.' }),
    threadTs: slackTs('ts of the thread\'s root message.'),
    alias: Type.String({ minLength: 1, maxLength: 512, description: 'Alias of the incident the thread belongs to.' }),
    incidentId: Id,
  },
  {
    additionalProperties: false,
    description:
      'The router learned that a Slack thread belongs to an incident (its root was posted, or a request opened one there). ' +
      'Envelope alias = slack-thread:{channel}:{threadTs}, so it lands where `ack` / `resolve` typed in the thread are looked up.',
  },
);
export type SlackThreadLinked = Static<typeof SlackThreadLinked>;

export const SlackTextCommandReceived = Type.Object(
  {
    command: Type.Union([Type.Literal('ack'), Type.Literal('resolve')]),
    team: Type.String({ minLength: 1 }),
    channel: Type.String({ minLength: 1 }),
    threadTs: slackTs('The thread the command was typed in.'),
    messageTs: slackTs('The command message\'s own ts.'),
    messageAlias: Type.String({ minLength: 1, description: 'Alias of the command message (slack:{team}:{channel}:{ts}).' }),
    user: Type.String({ minLength: 1, description: 'Slack user id of who typed it.' }),
    userName: Type.Optional(Type.String({ description: "The message's userName: who typed it, by name, for the history." })),
    userGroups: ActorGroups,
  },
  {
    additionalProperties: false,
    description:
      '`ack` / `resolve` mentioned to the app in a thread, on its way from the message to the thread\'s record. ' +
      'Envelope alias = slack-thread:{channel}:{threadTs}; the router sends it on to the incident as a SlackActionReceived.',
  },
);
export type SlackTextCommandReceived = Static<typeof SlackTextCommandReceived>;

export const SlackSlashCommandReceived = Type.Object(
  {
    command: Type.String({ minLength: 1, maxLength: 100, description: 'The command as Slack sends it, e.g. /alertbus (SLACK_COMMAND).' }),
    text: Type.String({ maxLength: 4000, description: 'What follows the command, as typed (Slack markup for mentions and links).' }),
    team: Type.String({ minLength: 1, description: 'Workspace id (team_id).' }),
    channel: Type.String({ minLength: 1, description: 'Channel id the command was typed in.' }),
    user: Type.String({ minLength: 1, description: 'Slack user id of who typed it.' }),
    userName: Type.Optional(Type.String()),
    userGroups: ActorGroups,
    responseUrl: Type.String({ minLength: 1, maxLength: 2000, description: 'Where the answer goes (usable 5 times within 30 minutes).' }),
    triggerId: Type.Optional(Type.String()),
    apiAppId: Type.Optional(Type.String()),
    via: Type.Union([Type.Literal('http'), Type.Literal('socket-mode')]),
    target: Type.Optional(
      Type.Object(
        { incidentId: Id, alias: Type.String({ minLength: 1, maxLength: 512 }) },
        {
          additionalProperties: false,
          description: '`ack` / `resolve` of an incident id: the incident\'s alias, which ingest asked the history API for and keyed the command by.',
        },
      ),
    ),
    targetProblem: Type.Optional(
      Type.String({ maxLength: 500, description: 'Why ingest could not find the alias of the incident id typed (unknown id, history API unreachable).' }),
    ),
    sanitised: Type.Optional(Sanitised),
    raw: Type.Unknown({ description: 'The form fields as received (text cleaned as `sanitised` says).' }),
  },
  {
    additionalProperties: false,
    description:
      'A slash command (POST /slack/commands, or a slash_commands Socket Mode envelope). Envelope id derived from team and ' +
      'trigger_id (else from the request), so a redelivery is the same event. Envelope alias = the incident alias for ' +
      '`ack <alias>` / `resolve <alias>` (the command meets the incident\'s state), else slack-slash:{team}:{id}.',
  },
);
export type SlackSlashCommandReceived = Static<typeof SlackSlashCommandReceived>;
