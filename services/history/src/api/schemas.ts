/** Request and response schemas of the query API: validation on the way in, serialisation and docs on the way out. */
import { Type, type Static } from '@sinclair/typebox';
import { Labels, Link, RuleRef, type IncidentStatus } from '@alertbus/schemas';

const INCIDENT_STATUSES: IncidentStatus[] = ['open', 'acknowledged', 'resolved'];

const NString = Type.Union([Type.String(), Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const NDateTime = Type.Union([DateTime, Type.Null()]);

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;

export const ListQuery = Type.Object(
  {
    status: Type.Optional(
      // A plain enum (not a union of literals) so a bad value is answered with the list of allowed ones.
      Type.Unsafe<IncidentStatus>({ type: 'string', enum: INCIDENT_STATUSES, description: 'Only incidents in this status.' }),
    ),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'e.g. alertmanager, grafana, generic.' })),
    alias: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Every occurrence of one alias.' })),
    severity: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export type IdParams = Static<typeof IdParams>;

export const Incident = Type.Object({
  incidentId: Type.String(),
  alias: Type.String(),
  occurrence: Type.Integer(),
  previousIncidentId: NString,
  title: Type.String(),
  severity: Type.String(),
  source: Type.String(),
  status: Type.String(),
  labels: Labels,
  description: NString,
  links: Type.Array(Link),
  count: Type.Integer(),
  openedAt: DateTime,
  acknowledgedAt: NDateTime,
  acknowledgedBy: NString,
  resolvedAt: NDateTime,
  resolvedBy: NString,
  slackChannel: NString,
  slackRootTs: NString,
  pagerAlertId: NString,
  pagerPriority: NString,
  rule: RuleRef,
  lastEventAt: DateTime,
  updatedAt: DateTime,
});

const Position = {
  topic: Type.String(),
  partition: Type.Integer(),
  offset: Type.String({ description: 'Kafka offset, as a decimal string (64-bit).' }),
};

export const TimelineEntry = Type.Object({
  eventId: Type.String(),
  incidentId: NString,
  alias: Type.String(),
  type: Type.String(),
  ...Position,
  occurredAt: DateTime,
  recordedAt: DateTime,
  source: Type.String(),
  causationId: NString,
  correlationId: Type.String(),
  reason: NString,
  rule: Type.Union([RuleRef, Type.Null()]),
  data: Type.Unknown(),
});

export const Delivery = Type.Object({
  eventId: Type.String(),
  commandId: Type.String(),
  commandType: Type.String(),
  incidentId: NString,
  type: Type.String(),
  target: Type.String(),
  dryRun: Type.Boolean(),
  ok: Type.Boolean(),
  error: NString,
  httpStatus: Type.Union([Type.Integer(), Type.Null()]),
  permanent: Type.Union([Type.Boolean(), Type.Null()]),
  attempts: Type.Integer(),
  slackChannel: NString,
  slackTs: NString,
  slackThreadTs: NString,
  slackPurpose: NString,
  pagerProvider: NString,
  pagerAlertId: NString,
  pagerRequestId: NString,
  request: Type.Unknown(),
  ...Position,
  recordedAt: DateTime,
});

export const IncidentList = Type.Object({ incidents: Type.Array(Incident), limit: Type.Integer() });

export const IncidentDetail = Type.Composite([
  Incident,
  Type.Object({ timeline: Type.Array(TimelineEntry), deliveries: Type.Array(Delivery) }),
]);

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() });
