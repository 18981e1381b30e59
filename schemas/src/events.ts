import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  AlertSource,
  AnyKey,
  AlertStatus,
  DecisionReason,
  Labels,
  Link,
  PagerPriority,
  Responder,
  RuleRef,
  Severity,
} from './common';
import { TOPICS } from './topics';

const Id = Type.String({ minLength: 1, maxLength: 200 });
const Timestamp = Type.String({ format: 'date-time' });

/** Set by ingest when it had to clean the input's text so that every part can keep it (Postgres, Slack, the pager). */
const Sanitised = Type.Integer({
  minimum: 1,
  description:
    'How many characters ingest removed (NUL and other control characters but tab and newline) or replaced with U+FFFD ' +
    '(lone surrogates) in this event\'s text, raw payload and object keys included; absent when none.',
});

// ---------------------------------------------------------------- received (ingest → router)

export const AlertReceived = Type.Object(
  {
    source: AlertSource,
    status: AlertStatus,
    fingerprint: Type.Optional(Type.String()),
    title: Type.String({ minLength: 1 }),
    severity: Severity,
    description: Type.Optional(Type.String()),
    labels: Labels,
    annotations: Labels,
    startsAt: Type.Optional(Timestamp),
    endsAt: Type.Optional(Timestamp),
    links: Type.Array(Link),
    groupKey: Type.Optional(Type.String()),
    values: Type.Optional(Type.Record(AnyKey, Type.Union([Type.Number(), Type.Null()]))),
    request: Type.Optional(
      Type.Object(
        {
          id: Id,
          index: Type.Integer({ minimum: 0, description: 'Position of this alert in the request.' }),
          count: Type.Integer({ minimum: 1, description: 'How many alerts the request carried.' }),
        },
        {
          additionalProperties: false,
          description:
            'The webhook request this alert came in. id: the event id of the request\'s first alert, the same on every alert of the request; that alert\'s ' +
            'raw.group keeps the request\'s group-level fields, once.',
        },
      ),
    ),
    authenticatedAs: Type.Optional(
      Type.String({ minLength: 1, description: 'Name of the INGEST_TOKENS entry the request was sent with; absent otherwise.' }),
    ),
    sanitised: Type.Optional(Sanitised),
    raw: Type.Unknown({
      description:
        'The alert as received (text cleaned as `sanitised` says). The group-level fields of its request (everything but ' +
        '`alerts`) are under raw.group of the request\'s first alert only (request.index 0); before requests were recorded, ' +
        'every alert carried them.',
    }),
  },
  { additionalProperties: false },
);
export type AlertReceived = Static<typeof AlertReceived>;

// ---------------------------------------------------------------- Slack inputs (ingest → router)

/** A Slack message ts ("<unix seconds>.<micros>"); with the channel it is the message's key. */
const slackTs = (description: string) => Type.String({ pattern: '^[0-9]+(\\.[0-9]+)?$', description });

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
    sanitised: Type.Optional(Sanitised),
    raw: Type.Unknown({ description: 'The whole event_callback body as received (text cleaned as `sanitised` says).' }),
  },
  {
    additionalProperties: false,
    description:
      'A Slack message the app was told about. Envelope alias (and Kafka key) = slack:{team}:{channel}:{ts}, the message\'s own ' +
      'ts even for a reply in a thread, so redeliveries, edits and deletes of one message share one alias.',
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
  },
  {
    additionalProperties: false,
    description:
      '`ack` / `resolve` mentioned to the app in a thread, on its way from the message to the thread\'s record. ' +
      'Envelope alias = slack-thread:{channel}:{threadTs}; the router sends it on to the incident as a SlackActionReceived.',
  },
);
export type SlackTextCommandReceived = Static<typeof SlackTextCommandReceived>;

// ---------------------------------------------------------------- incidents (router → history)

const IncidentStatus = Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]);
export type IncidentStatus = Static<typeof IncidentStatus>;

const incidentBase = {
  incidentId: Id,
  occurrence: Type.Integer({ minimum: 1 }),
  title: Type.String(),
  severity: Severity,
  source: Type.String(),
  status: IncidentStatus,
  count: Type.Integer({ minimum: 1, description: 'How many times the alias fired in this occurrence.' }),
  reason: DecisionReason,
  rule: RuleRef,
  inputId: Id,
  labels: Labels,
};

const SlackTarget = Type.Object(
  {
    channel: Type.String(),
    mentionOnCall: Type.Optional(
      Type.String({ minLength: 1, description: 'Schedule whose on-call is mentioned in the thread once its root is posted.' }),
    ),
  },
  { additionalProperties: false },
);
/** The Slack message a Slack incident was opened from, and the thread it is answered in. */
export const SlackRequestRef = Type.Object(
  {
    team: Type.String({ minLength: 1 }),
    channel: Type.String({ minLength: 1 }),
    ts: slackTs('The request message\'s own ts (the incident alias ends with it).'),
    threadTs: slackTs('Where the incident is answered: the message\'s thread, or the thread it starts.'),
    user: Type.Optional(Type.String({ description: 'Slack user id of who asked.' })),
    text: Type.String({ description: 'The message text as Slack sent it (the latest edit).' }),
  },
  { additionalProperties: false },
);
export type SlackRequestRef = Static<typeof SlackRequestRef>;
const PagerTarget = Type.Object(
  {
    priority: PagerPriority,
    alias: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'The pager alert alias, when a rule templated one.' })),
  },
  { additionalProperties: false },
);

export const IncidentOpened = Type.Object(
  {
    ...incidentBase,
    description: Type.Optional(Type.String()),
    links: Type.Array(Link),
    openedAt: Timestamp,
    slack: Type.Optional(SlackTarget),
    pager: Type.Optional(PagerTarget),
    previousIncidentId: Type.Optional(Id),
    slackRequest: Type.Optional(SlackRequestRef),
  },
  { additionalProperties: false },
);
export const IncidentReopened = IncidentOpened;
export const IncidentRepeated = Type.Object(
  { ...incidentBase, notified: Type.Boolean({ description: 'Whether the repeat was re-notified.' }) },
  { additionalProperties: false },
);
export const IncidentUpdated = Type.Object(
  { ...incidentBase, changes: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);
export const IncidentAcknowledged = Type.Object(
  { ...incidentBase, acknowledgedAt: Timestamp, by: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export const IncidentResolved = Type.Object(
  { ...incidentBase, resolvedAt: Timestamp, by: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
/** What suppressed an input (reasons silenced, inhibited, storm-control): the answer to "why was nobody told?". */
export const SuppressedBy = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('silence'),
        silenceId: Id,
        silenceKind: Type.Optional(Type.Union([Type.Literal('silence'), Type.Literal('maintenance')])),
        createdBy: Type.Optional(Type.String()),
        comment: Type.Optional(Type.String()),
        endsAt: Type.Optional(Timestamp),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('inhibition'),
        incidentId: Id,
        alias: Type.String({ minLength: 1 }),
        inhibitRule: Type.String({ description: 'The inhibit rule: its name, else its path (inhibit[0]).' }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        kind: Type.Literal('storm'),
        channel: Type.String(),
        summaryIncidentId: Id,
        since: Timestamp,
        threshold: Type.Integer({ minimum: 1 }),
        window: Type.String(),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Silence id, inhibiting incident or storm summary that suppressed the input.' },
);
export type SuppressedBy = Static<typeof SuppressedBy>;

export const EventSuppressed = Type.Object(
  {
    inputId: Id,
    inputType: Type.String(),
    reason: DecisionReason,
    rule: RuleRef,
    incidentId: Type.Optional(Id),
    title: Type.Optional(Type.String()),
    suppressedBy: Type.Optional(SuppressedBy),
  },
  { additionalProperties: false },
);
export type IncidentOpened = Static<typeof IncidentOpened>;
export type IncidentRepeated = Static<typeof IncidentRepeated>;
export type IncidentUpdated = Static<typeof IncidentUpdated>;
export type IncidentAcknowledged = Static<typeof IncidentAcknowledged>;
export type IncidentResolved = Static<typeof IncidentResolved>;
export type EventSuppressed = Static<typeof EventSuppressed>;

// ---------------------------------------------------------------- commands (router → sinks)

const commandBase = { incidentId: Id, rule: RuleRef };
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

export const CreatePagerAlert = Type.Object(
  {
    ...commandBase,
    message: Type.String({ minLength: 1, maxLength: 130 }),
    description: Type.Optional(Type.String({ maxLength: 15000 })),
    priority: PagerPriority,
    tags: Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 }),
    responders: Type.Array(Responder),
    details: Type.Record(Type.String(), Type.String()),
    source: Type.String({ maxLength: 100 }),
    entity: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export const ClosePagerAlert = Type.Object(
  { ...commandBase, note: Type.Optional(Type.String()), user: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export const AcknowledgePagerAlert = ClosePagerAlert;
export const AddPagerNote = Type.Object(
  { ...commandBase, note: Type.String({ minLength: 1, maxLength: 25000 }), user: Type.Optional(Type.String()) },
  { additionalProperties: false },
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
export type ReplyWithOnCall = Static<typeof ReplyWithOnCall>;
export type ClearOnCallCache = Static<typeof ClearOnCallCache>;
export type PostSlackReply = Static<typeof PostSlackReply>;
export type PostSlackMessage = Static<typeof PostSlackMessage>;
export type UpdateSlackMessage = Static<typeof UpdateSlackMessage>;
export type CreatePagerAlert = Static<typeof CreatePagerAlert>;
export type ClosePagerAlert = Static<typeof ClosePagerAlert>;
export type AcknowledgePagerAlert = Static<typeof AcknowledgePagerAlert>;
export type AddPagerNote = Static<typeof AddPagerNote>;

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

export const SlackDelivery = Type.Object(
  {
    ...deliveryBase,
    channel: Type.String(),
    ts: Type.String(),
    threadTs: Type.Optional(Type.String()),
    purpose: Type.Optional(Type.Union([Type.Literal('root'), Type.Literal('reply')])),
  },
  { additionalProperties: false },
);
export const PagerDelivery = Type.Object(
  {
    ...deliveryBase,
    provider: Type.Union([Type.Literal('opsgenie'), Type.Literal('jsm')]),
    requestId: Type.Optional(Type.String()),
    alertId: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
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
/** The result of a command answered in a thread of a channel (no incident root involved, so incidentId is optional). */
const slackThreadDeliveryBase = {
  commandId: Id,
  commandType: Type.String(),
  incidentId: Type.Optional(Id),
  dryRun: Type.Boolean(),
  attempts: Type.Integer({ minimum: 0 }),
  request: Type.Optional(WouldSend),
  channel: Type.String(),
  ts: Type.String({ description: 'ts of the (last) message posted.' }),
  threadTs: Type.String(),
};

export const SlackReplyDelivery = Type.Object({ ...slackThreadDeliveryBase }, { additionalProperties: false });

export const OnCallOutcome = Type.Union(
  [Type.Literal('mentioned'), Type.Literal('nobody-on-call'), Type.Literal('lookup-failed'), Type.Literal('dry-run')],
  { description: 'What the reply said: who is on call, that nobody is, or that the lookup failed (error says why).' },
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
export type SlackReplyDelivery = Static<typeof SlackReplyDelivery>;
export type OnCallReplyDelivery = Static<typeof OnCallReplyDelivery>;
export type OnCallCacheDelivery = Static<typeof OnCallCacheDelivery>;
export type SlackUserGroupUpdated = Static<typeof SlackUserGroupUpdated>;
export type SlackDelivery = Static<typeof SlackDelivery>;
export type PagerDelivery = Static<typeof PagerDelivery>;
export type DeliveryFailed = Static<typeof DeliveryFailed>;
export type DeliveryDelayed = Static<typeof DeliveryDelayed>;

// ---------------------------------------------------------------- dead letters

export const DeadLetter = Type.Object(
  {
    consumer: Type.String({ description: 'Consumer group that gave up on the record.' }),
    origin: Type.Object(
      {
        topic: Type.String(),
        partition: Type.Integer({ minimum: 0 }),
        offset: Type.String(),
        timestamp: Type.Optional(Type.String()),
        key: Type.Union([Type.String(), Type.Null()]),
        value: Type.Union([Type.String(), Type.Null()], { description: 'The original value, utf-8 (or base64 when not text).' }),
        valueEncoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
        headers: Type.Record(Type.String(), Type.String()),
      },
      { additionalProperties: false },
    ),
    attempts: Type.Array(
      Type.Object({ at: Timestamp, error: Type.String() }, { additionalProperties: false }),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type DeadLetter = Static<typeof DeadLetter>;

// ---------------------------------------------------------------- silences (history API / CLI → router, history)

export const SilenceCreated = Type.Object(
  {
    silenceId: Id,
    matchers: Type.Array(Type.String({ minLength: 1 }), {
      description:
        'Alertmanager-syntax matchers (=, !=, =~, !~) over labels and source/severity/status; none matches every ' +
        'alert (the history API writes that only when asked with allowAll).',
    }),
    startsAt: Timestamp,
    endsAt: Timestamp,
    createdBy: Type.String({ minLength: 1 }),
    comment: Type.String({ minLength: 1 }),
    kind: Type.Union([Type.Literal('silence'), Type.Literal('maintenance')]),
  },
  { additionalProperties: false },
);
export const SilenceExpired = Type.Object(
  { silenceId: Id, expiredBy: Type.String({ minLength: 1 }), expiredAt: Timestamp },
  { additionalProperties: false },
);
export type SilenceCreated = Static<typeof SilenceCreated>;
export type SilenceExpired = Static<typeof SilenceExpired>;

/** Every event type, its data schema and the topic it lives on. */
export const EVENT_TYPES = {
  AlertReceived: { topic: TOPICS.alertsReceived, data: AlertReceived },
  IncidentOpened: { topic: TOPICS.incidents, data: IncidentOpened },
  IncidentReopened: { topic: TOPICS.incidents, data: IncidentReopened },
  IncidentRepeated: { topic: TOPICS.incidents, data: IncidentRepeated },
  IncidentUpdated: { topic: TOPICS.incidents, data: IncidentUpdated },
  IncidentAcknowledged: { topic: TOPICS.incidents, data: IncidentAcknowledged },
  IncidentResolved: { topic: TOPICS.incidents, data: IncidentResolved },
  EventSuppressed: { topic: TOPICS.incidents, data: EventSuppressed },
  PostSlackMessage: { topic: TOPICS.slackCommands, data: PostSlackMessage },
  UpdateSlackMessage: { topic: TOPICS.slackCommands, data: UpdateSlackMessage },
  CreatePagerAlert: { topic: TOPICS.pagerCommands, data: CreatePagerAlert },
  ClosePagerAlert: { topic: TOPICS.pagerCommands, data: ClosePagerAlert },
  AcknowledgePagerAlert: { topic: TOPICS.pagerCommands, data: AcknowledgePagerAlert },
  AddPagerNote: { topic: TOPICS.pagerCommands, data: AddPagerNote },
  SlackMessagePosted: { topic: TOPICS.deliveries, data: SlackDelivery },
  SlackMessageUpdated: { topic: TOPICS.deliveries, data: SlackDelivery },
  PagerAlertCreated: { topic: TOPICS.deliveries, data: PagerDelivery },
  PagerAlertClosed: { topic: TOPICS.deliveries, data: PagerDelivery },
  PagerAlertAcknowledged: { topic: TOPICS.deliveries, data: PagerDelivery },
  PagerNoteAdded: { topic: TOPICS.deliveries, data: PagerDelivery },
  DeliveryFailed: { topic: TOPICS.deliveries, data: DeliveryFailed },
  DeliveryDelayed: { topic: TOPICS.deliveries, data: DeliveryDelayed },
  DeadLettered: { topic: TOPICS.deadLetter, data: DeadLetter },
  SilenceCreated: { topic: TOPICS.silences, data: SilenceCreated },
  SilenceExpired: { topic: TOPICS.silences, data: SilenceExpired },
  SlackMessageReceived: { topic: TOPICS.slackReceived, data: SlackMessageReceived },
  SlackActionReceived: { topic: TOPICS.slackReceived, data: SlackActionReceived },
  ReplyWithOnCall: { topic: TOPICS.slackCommands, data: ReplyWithOnCall },
  ClearOnCallCache: { topic: TOPICS.slackCommands, data: ClearOnCallCache },
  PostSlackReply: { topic: TOPICS.slackCommands, data: PostSlackReply },
  SlackReplyPosted: { topic: TOPICS.deliveries, data: SlackReplyDelivery },
  OnCallReplyPosted: { topic: TOPICS.deliveries, data: OnCallReplyDelivery },
  OnCallCacheCleared: { topic: TOPICS.deliveries, data: OnCallCacheDelivery },
  SlackUserGroupUpdated: { topic: TOPICS.deliveries, data: SlackUserGroupUpdated },
  SlackThreadLinked: { topic: TOPICS.slackReceived, data: SlackThreadLinked },
  SlackTextCommandReceived: { topic: TOPICS.slackReceived, data: SlackTextCommandReceived },
} as const satisfies Record<string, { topic: string; data: TSchema }>;

export type EventType = keyof typeof EVENT_TYPES;
export type EventData<T extends EventType> = Static<(typeof EVENT_TYPES)[T]['data']>;

/** The router's decision events: every type that lives on the incidents topic. */
export const INCIDENT_EVENT_TYPES: ReadonlySet<string> = new Set(
  (Object.keys(EVENT_TYPES) as EventType[]).filter((t) => EVENT_TYPES[t].topic === TOPICS.incidents),
);
