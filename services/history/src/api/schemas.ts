/**
 * Request and response schemas of the query API: validation on the way in, serialisation and the OpenAPI
 * document on the way out. Responses use snake_case; `data` and `rule` are the events' own objects, as written.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { DecisionReason, Labels, Link, RuleRef, type IncidentStatus } from '@alertbus/schemas';
import { STAGES, type Stage } from '@alertbus/projection';

const INCIDENT_STATUSES: IncidentStatus[] = ['open', 'acknowledged', 'resolved'];

const NString = Type.Union([Type.String(), Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const NDateTime = Type.Union([DateTime, Type.Null()]);
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;

/** A plain enum (not a union of literals) so a bad value is answered with the list of allowed ones. */
const Enum = <T extends string>(values: readonly T[], description: string, dflt?: T) =>
  Type.Unsafe<T>({ type: 'string', enum: values, description, ...(dflt !== undefined ? { default: dflt } : {}) });

const Limit = Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `Page size, at most ${MAX_LIMIT}.` });
const Cursor = Type.String({ minLength: 1, maxLength: 1000, description: 'The `next_cursor` of the previous page.' });

export const ListQuery = Type.Object(
  {
    status: Type.Optional(Enum(INCIDENT_STATUSES, 'Only incidents in this status.')),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'e.g. alertmanager, grafana, generic.' })),
    alias: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Every occurrence of one alias.' })),
    severity: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    channel: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Slack channel: the one the rule chose (#alerts, or alerts without its #) or the id Slack reported.' }),
    ),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Opened at or after (ISO 8601 with offset).' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Opened before (ISO 8601 with offset).' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Text in the title or description as shown (case-insensitive): hidden credentials are not searched. A page of a search may hold fewer than `limit` incidents while `next_cursor` is set (after 2,000 rows that matched only in hidden text).' })),
    cursor: Type.Optional(Cursor),
    limit: Limit,
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

export const Incident = Type.Object({
  incident_id: Type.String(),
  alias: Type.String(),
  occurrence: Type.Integer(),
  previous_incident_id: NString,
  title: Type.String(),
  severity: Type.String(),
  source: Type.String(),
  status: Type.String(),
  labels: Labels,
  description: NString,
  links: Type.Array(Link),
  count: Type.Integer({ description: 'How many times the alias fired in this occurrence.' }),
  opened_at: Type.String({ format: 'date-time', description: 'When alertbus opened it (it heard of it): what the time filters and the stats window use.' }),
  started_at: Type.Union([DateTime, Type.Null()], {
    description:
      "When the sender says it started (its startsAt): null when it gave none, or one more than 7 days before opened_at or more than 5 minutes after it (one after it by less is taken as opened_at); never before the previous incident of the alias ended (ended_at, else resolved_at): an alert still firing after a person resolved its incident opens the next one from that resolve, not from its first startsAt. The stats' durations start here when set.",
  }),
  acknowledged_at: NDateTime,
  acknowledged_by: Type.Union([Type.String(), Type.Null()], {
    description: 'Who acknowledged it, by id: a Slack user id (a click or command), or the pager\'s username (Opsgenie, JSM).',
  }),
  acknowledged_in: Type.Union([Type.String(), Type.Null()], {
    description:
      "The pager it was acknowledged in (opsgenie, jsm): acknowledged_by is then the pager's username, to be shown as text and never taken for a Slack user id; null for Slack's clicks and commands.",
  }),
  acknowledged_by_name: Type.Union([Type.String(), Type.Null()], {
    description: 'The same person by name (Slack\'s name for them, or the pager\'s username), when the acknowledgement said it; null otherwise.',
  }),
  resolved_at: NDateTime,
  resolved_by: Type.Union([Type.String(), Type.Null()], { description: 'Who resolved it, by id, when a person did (as acknowledged_by).' }),
  resolved_by_name: Type.Union([Type.String(), Type.Null()], { description: 'The same person by name, when the resolve said it; null otherwise.' }),
  resolved_in: Type.Union([Type.String(), Type.Null()], { description: 'The pager it was resolved in, as acknowledged_in.' }),
  ended_at: Type.Union([DateTime, Type.Null()], {
    description:
      "When the sender says it ended (the endsAt of the resolve it sent): null when a person resolved it, the sender gave none, or one more than 5 minutes after resolved_at; at most resolved_at and at least the start (started_at, else opened_at). The time to resolve ends here when set.",
  }),
  slack_channel: Type.Union([Type.String(), Type.Null()], {
    description: 'Where the thread is: the id Slack reported once the root was posted, or the channel a Slack request was asked in.',
  }),
  slack_target_channel: Type.Union([Type.String(), Type.Null()], { description: 'The channel the rule chose (a Slack request: its own).' }),
  slack_root_ts: Type.Union([Type.String(), Type.Null()], {
    description: "The thread's root message: our root post, or for a Slack request the requester's message (or the thread they asked in).",
  }),
  pager_alert_id: NString,
  pager_priority: NString,
  storm_incident_id: Type.Union([Type.String(), Type.Null()], {
    description: 'Set when storm control gathered the incident into a storm summary instead of a thread: the summary\'s incident id.',
  }),
  storm_slack_ts: Type.Union([Type.String(), Type.Null()], { description: "A storm member's Slack place: the storm summary message (in slack_channel)." }),
  storm_pager_alert_id: Type.Union([Type.String(), Type.Null()], { description: "A storm member that pages through the storm's one alert: that alert's id." }),
  rule: RuleRef,
  last_event_at: DateTime,
  updated_at: DateTime,
});

const Position = {
  topic: Type.String(),
  partition: Type.Integer(),
  offset: Type.String({ description: 'Kafka offset, as a decimal string (64-bit).' }),
};

export const TimelineEntry = Type.Object({
  event_id: Type.String(),
  incident_id: NString,
  input_id: Type.Union([Type.String(), Type.Null()], { description: "A decision's input: the received event it decided on." }),
  alias: Type.String(),
  type: Type.String(),
  stage: Type.Unsafe<Stage>({ type: 'string', enum: [...STAGES], description: 'received → decided → command → delivered/delayed/failed.' }),
  ...Position,
  occurred_at: DateTime,
  recorded_at: DateTime,
  source: Type.String(),
  causation_id: NString,
  correlation_id: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'Why the router decided as it did.' }),
  rule: Type.Union([RuleRef, Type.Null()], { description: 'The rule that decided, with the rules version.' }),
  data: Type.Unknown({ description: "The event's data, as written." }),
});

export const Delivery = Type.Object({
  event_id: Type.String(),
  command_id: Type.String(),
  command_type: Type.String(),
  incident_id: NString,
  type: Type.String(),
  target: Type.String(),
  dry_run: Type.Boolean(),
  ok: Type.Boolean(),
  error: NString,
  http_status: Nullable(Type.Integer()),
  permanent: Nullable(Type.Boolean()),
  attempts: Type.Integer(),
  slack_channel: NString,
  slack_ts: NString,
  slack_thread_ts: NString,
  slack_purpose: NString,
  pager_provider: NString,
  pager_alert_id: NString,
  pager_request_id: NString,
  request: Type.Unknown(),
  ...Position,
  recorded_at: DateTime,
});

export const IncidentList = Type.Object({
  incidents: Type.Array(Incident),
  limit: Type.Integer(),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const IncidentDetail = Type.Composite([
  Incident,
  Type.Object({
    timeline: Type.Array(TimelineEntry),
    deliveries: Type.Array(Delivery),
    truncated: Type.Boolean({
      description: 'The timeline or the deliveries have more than 2000 entries: the first 2000 are here; GET /api/timeline?alias= pages through all.',
    }),
  }),
]);

export const TimelineQuery = Type.Object(
  {
    alias: Type.String({ minLength: 1, maxLength: 512, description: 'Every projected event of this alias.' }),
    cursor: Type.Optional(Cursor),
    limit: Type.Integer({ minimum: 1, maximum: 5000, default: 1000 }),
  },
  { additionalProperties: false },
);
export type TimelineQuery = Static<typeof TimelineQuery>;

export const AliasTimeline = Type.Object({
  alias: Type.String(),
  events: Type.Array(TimelineEntry),
  next_cursor: NString,
});

export const Offsets = Type.Object({
  offsets: Type.Array(
    Type.Object({ consumer: Type.String(), topic: Type.String(), partition: Type.Integer(), next_offset: Type.String() }),
  ),
});

export const StatsQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Start (inclusive); default: 30 days before `to`.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'End (exclusive); default: now.' })),
  },
  { additionalProperties: false },
);
export type StatsQuery = Static<typeof StatsQuery>;

const Durations = Type.Object({
  count: Type.Integer({ description: 'Incidents of the window that reached the state.' }),
  median_seconds: Nullable(Type.Number()),
  p90_seconds: Nullable(Type.Number()),
});

export const StatsBody = Type.Object({
  from: DateTime,
  to: DateTime,
  incidents: Type.Object({
    total: Type.Integer(),
    by_source: Type.Array(Type.Object({ source: Type.String(), count: Type.Integer() })),
    by_severity: Type.Array(Type.Object({ severity: Type.String(), count: Type.Integer() })),
    by_status: Type.Array(Type.Object({ status: Type.String(), count: Type.Integer() })),
  }),
  time_to_acknowledge: Type.Composite([Durations], {
    description: 'From the start (started_at, else opened_at) to acknowledged_at.',
  }),
  time_to_resolve: Type.Composite([Durations], {
    description: 'From the start (started_at, else opened_at) to the end (ended_at, else resolved_at).',
  }),
  pages_per_day: Type.Array(Type.Object({ day: Type.String(), pages: Type.Integer(), dry_run: Type.Integer() })),
  incidents_per_day: Type.Array(Type.Object({ day: Type.String(), count: Type.Integer() })),
  noisiest_aliases: Type.Array(Type.Object({ alias: Type.String(), incidents: Type.Integer(), alerts: Type.Integer() })),
});

// ---------------------------------------------------------------- silences

export const SILENCE_STATES = ['active', 'pending', 'expired', 'all'] as const;

export const SilenceBody = Type.Object(
  {
    matchers: Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), {
      maxItems: 50,
      description:
        'Alertmanager matchers: name="value", name!="value", name=~"regex", name!~"regex". None, or none that selects ' +
        '(each accepts a missing label or any value, e.g. alertname=~".+"), silences every alert and needs allowAll.',
    }),
    startsAt: Type.Optional(Type.String({ format: 'date-time', description: 'Default: now.' })),
    endsAt: Type.Optional(Type.String({ format: 'date-time', description: 'Either endsAt or duration.' })),
    duration: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'e.g. 2h, 30m, 1h30m, 1d; at most SILENCE_MAX_DURATION (30d).' })),
    comment: Type.String({ minLength: 1, maxLength: 2000, description: 'Why. The author is the name of the token, not a field.' }),
    kind: Type.Optional(Enum(['silence', 'maintenance'] as const, 'A maintenance window is a silence planned ahead.')),
    allowAll: Type.Optional(Type.Boolean({ description: 'Required, with a comment, for a silence of every alert.' })),
  },
  { additionalProperties: false },
);
export type SilenceBody = Static<typeof SilenceBody>;

export const SilenceHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      description: 'The same key from the same token within 24 h is the same silence (200); with another body, 422. E.g. a UUID per silence.',
    }),
  ),
});

export const SilenceListQuery = Type.Object(
  {
    state: Enum(SILENCE_STATES, 'Which silences, as of `now`.', 'active'),
    now: Type.Optional(Type.String({ format: 'date-time', description: 'The instant states are computed for; default: the request time.' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, description: 'The `next_cursor` of the previous page.' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size, at most 1000.' }),
  },
  { additionalProperties: false },
);
export type SilenceListQuery = Static<typeof SilenceListQuery>;

export const ExpireQuery = Type.Object({}, { additionalProperties: false });
export type ExpireQuery = Static<typeof ExpireQuery>;

export const Silence = Type.Object({
  silence_id: Type.String(),
  kind: Type.String(),
  matchers: Type.Array(Type.String()),
  starts_at: DateTime,
  ends_at: DateTime,
  created_by: Type.String(),
  comment: Type.String(),
  created_at: DateTime,
  expired_at: NDateTime,
  expired_by: NString,
  state: Type.Unsafe<string>({ type: 'string', enum: ['active', 'pending', 'expired'] }),
  matches_all: Type.Boolean({ description: 'Its matchers select nothing: it silences every alert.' }),
  notice: Type.Optional(
    Type.String({ description: 'Said when a silence of every alert is created, and when an expiry could not be seen in the projection in time.' }),
  ),
});

export const SilenceList = Type.Object({
  silences: Type.Array(Silence),
  now: DateTime,
  state: Type.String(),
  truncated: Type.Boolean({ description: 'More silences are in this state than this page holds: `next_cursor` gives the next page.' }),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });

// ---------------------------------------------------------------- suppressed

const DECISION_REASONS = DecisionReason.anyOf.map((r) => r.const as string);

export const SuppressedQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Decided at or after (ISO 8601 with offset); default: 24 hours before `to`.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Decided before (ISO 8601 with offset); default: now.' })),
    since: Type.Optional(
      Type.String({ minLength: 1, maxLength: 40, description: 'Instead of `from`: this long before `to`, e.g. 24h, 90m, 7d.' }),
    ),
    reason: Type.Optional(Enum(DECISION_REASONS, 'Only suppressions for this reason, e.g. silenced, inhibited, dropped-by-rule, storm-control.')),
    alias: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Only the suppressions of one alias.' })),
    cursor: Type.Optional(Cursor),
    limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 100, description: `Page size, at most ${MAX_LIMIT}.` }),
  },
  { additionalProperties: false },
);
export type SuppressedQuery = Static<typeof SuppressedQuery>;

export const Suppression = Type.Object({
  event_id: Type.String({ description: 'The EventSuppressed decision.' }),
  recorded_at: DateTime,
  alias: Type.String(),
  reason: Type.String(),
  input_type: Type.Union([Type.String(), Type.Null()], { description: 'What was kept quiet: AlertReceived, or a Slack or pager input.' }),
  input_id: NString,
  incident_id: Type.Union([Type.String(), Type.Null()], { description: 'The incident of the alias the input belonged to, if any.' }),
  rule: Type.Union([RuleRef, Type.Null()], { description: 'The rule that decided (for dropped-by-rule, the drop rule), with the rules version.' }),
  suppressed_by: Type.Unknown({
    description:
      'What suppressed it, as the event says: {kind: silence, silenceId, createdBy, comment}, {kind: inhibition, incidentId, alias, inhibitRule} ' +
      'or {kind: storm, summaryIncidentId, channel}; null for the other reasons. A storm\'s summaryIncidentId is the id the ' +
      'summary message\'s commands and deliveries carry, not an incident of /api/incidents/{id}: see storm_summary.',
  }),
  storm_summary: Type.Union(
    [
      Type.Object({
        alias: Type.Union([Type.String(), Type.Null()], {
          description: "The storm's alias: its summary's commands and deliveries at /api/timeline?alias=…; null while none is projected.",
        }),
        slack_channel: Type.Union([Type.String(), Type.Null()], { description: 'The Slack channel (id) of the summary message.' }),
        slack_ts: Type.Union([Type.String(), Type.Null()], { description: "The summary message's ts; null until Slack took it." }),
        pager_alert_id: Type.Union([Type.String(), Type.Null()], {
          description: "The storm's one pager alert, when this incident pages through it (suppressed_by.pageGrouped).",
        }),
      }),
      Type.Null(),
    ],
    {
      description:
        'For a storm suppression, what the history holds of the storm (the same places /api/incidents/{incident_id} shows as ' +
        'storm_slack_ts, slack_channel, storm_pager_alert_id); null for the other reasons.',
    },
  ),
  title: NString,
  severity: NString,
  labels: Type.Union([Labels, Type.Null()]),
});

export const SuppressedList = Type.Object({
  from: DateTime,
  to: DateTime,
  suppressed: Type.Array(Suppression),
  counts: Type.Union([Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer() })), Type.Null()], {
    description: 'Suppressions per reason over the whole window (and alias, if given), whatever `reason` is; on the first page only.',
  }),
  total: Type.Union([Type.Integer(), Type.Null()], { description: 'Their sum; on the first page only.' }),
  limit: Type.Integer(),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page.' }),
});
