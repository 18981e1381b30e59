import { Type, type Static, type TSchema } from '@sinclair/typebox';
import {
  AlertSource,
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
    values: Type.Optional(Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()]))),
    raw: Type.Unknown({ description: 'The alert exactly as received; group-level fields under raw.group.' }),
  },
  { additionalProperties: false },
);
export type AlertReceived = Static<typeof AlertReceived>;

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

const SlackTarget = Type.Object({ channel: Type.String() }, { additionalProperties: false });
const PagerTarget = Type.Object({ priority: PagerPriority }, { additionalProperties: false });

export const IncidentOpened = Type.Object(
  {
    ...incidentBase,
    description: Type.Optional(Type.String()),
    links: Type.Array(Link),
    openedAt: Timestamp,
    slack: Type.Optional(SlackTarget),
    pager: Type.Optional(PagerTarget),
    previousIncidentId: Type.Optional(Id),
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
export const EventSuppressed = Type.Object(
  {
    inputId: Id,
    inputType: Type.String(),
    reason: DecisionReason,
    rule: RuleRef,
    incidentId: Type.Optional(Id),
    title: Type.Optional(Type.String()),
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

export const PostSlackMessage = Type.Object(
  {
    ...commandBase,
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
export type SlackDelivery = Static<typeof SlackDelivery>;
export type PagerDelivery = Static<typeof PagerDelivery>;
export type DeliveryFailed = Static<typeof DeliveryFailed>;

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
      minItems: 1,
      description: 'Alertmanager-syntax matchers (=, !=, =~, !~) over labels and source/severity/status.',
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
  DeadLettered: { topic: TOPICS.deadLetter, data: DeadLetter },
  SilenceCreated: { topic: TOPICS.silences, data: SilenceCreated },
  SilenceExpired: { topic: TOPICS.silences, data: SilenceExpired },
} as const satisfies Record<string, { topic: string; data: TSchema }>;

export type EventType = keyof typeof EVENT_TYPES;
export type EventData<T extends EventType> = Static<(typeof EVENT_TYPES)[T]['data']>;
