/**
 * The projection's vocabulary: rows and the SQL-free changes one event makes to them, so the decision of
 * "what does this event mean for the tables" stays pure and testable without a database.
 */
import type { IncidentStatus, Labels, Link, RuleRef } from '@alertbus/schemas';
import type { NotificationChange } from './notification-events';
import type { Stage } from './stage';

/** Where a record was read from; every timeline and delivery row keeps it. */
export interface Position {
  topic: string;
  partition: number;
  /** Kafka offsets are 64-bit: kept as decimal strings. */
  offset: string;
}

export interface IncidentRow {
  incidentId: string;
  alias: string;
  occurrence: number;
  previousIncidentId: string | null;
  title: string;
  severity: string;
  source: string;
  status: IncidentStatus;
  labels: Labels;
  description: string | null;
  links: Link[];
  count: number;
  openedAt: string;
  /** When the sender says it started (its startsAt), when believable (sender-times.ts); null when it gave none. */
  startedAt: string | null;
  acknowledgedAt: string | null;
  /** Who acknowledged it: their id (a Slack user id, or the pager's username). */
  acknowledgedBy: string | null;
  /** The same person by name (the event's byName), when the input named them. */
  acknowledgedByName: string | null;
  /** The pager it was acknowledged in (the event's provider): acknowledgedBy is then the pager's username, no Slack user id. */
  acknowledgedIn: string | null;
  resolvedAt: string | null;
  resolvedBy: string | null;
  resolvedByName: string | null;
  /** The pager it was resolved in, as acknowledgedIn. */
  resolvedIn: string | null;
  /** When the sender says it ended (the endsAt of its resolve), when believable (sender-times.ts); else null. */
  endedAt: string | null;
  slackChannel: string | null;
  /** The channel the rule chose (e.g. `#alerts`); slackChannel becomes the id Slack reports once posted. */
  slackTargetChannel: string | null;
  slackRootTs: string | null;
  pagerAlertId: string | null;
  pagerPriority: string | null;
  /** The storm summary (its incident id) storm control gathered this incident into instead of a thread of its own. */
  stormIncidentId: string | null;
  /** A storm member's Slack place: the summary message (in slackChannel). */
  stormSlackTs: string | null;
  /** A storm member's page when it pages through the storm's one alert. */
  stormPagerAlertId: string | null;
  rule: RuleRef;
  lastEventAt: string;
  updatedAt: string;
}

/** Columns a later incident event may overwrite. */
export type IncidentUpdate = Partial<
  Pick<
    IncidentRow,
    | 'title'
    | 'severity'
    | 'status'
    | 'labels'
    | 'description'
    | 'links'
    | 'count'
    | 'acknowledgedAt'
    | 'acknowledgedBy'
    | 'acknowledgedByName'
    | 'acknowledgedIn'
    | 'resolvedAt'
    | 'resolvedBy'
    | 'resolvedByName'
    | 'resolvedIn'
    | 'endedAt'
    | 'lastEventAt'
    | 'pagerPriority'
  >
>;

export interface TimelineRow extends Position {
  eventId: string;
  /** The incident the event names (commands, decisions, deliveries); null for inputs and silences. */
  incidentId: string | null;
  /** For a decision: the id of the received event it decided on, which ties that input to the incident. */
  inputId: string | null;
  alias: string;
  type: string;
  /** received → decided → command → delivered/failed; orders events of equal time. */
  stage: Stage;
  occurredAt: string;
  recordedAt: string;
  source: string;
  causationId: string | null;
  correlationId: string;
  reason: string | null;
  rule: RuleRef | null;
  data: unknown;
}

export interface DeliveryRow extends Position {
  eventId: string;
  commandId: string;
  commandType: string;
  incidentId: string | null;
  type: string;
  target: 'slack' | 'pager';
  dryRun: boolean;
  ok: boolean;
  error: string | null;
  httpStatus: number | null;
  permanent: boolean | null;
  attempts: number;
  slackChannel: string | null;
  slackTs: string | null;
  slackThreadTs: string | null;
  slackPurpose: 'root' | 'reply' | null;
  pagerProvider: string | null;
  pagerAlertId: string | null;
  pagerRequestId: string | null;
  request: unknown;
  recordedAt: string;
}

/**
 * What an event does to the incidents table. `at` is the event's recordedAt: updated_at only moves
 * forward to it, so the final row does not depend on how the two topics interleaved.
 */
export type IncidentChange =
  /** Insert when absent, then adopt the Slack root / pager alert of deliveries that arrived first. */
  | { kind: 'open-incident'; row: IncidentRow }
  /** Overwrite columns of an existing incident; nothing when the incident is unknown. */
  | { kind: 'update-incident'; incidentId: string; set: IncidentUpdate; at: string }
  /** The incident's thread root, kept from the first root post (later ones do not move the thread). */
  | { kind: 'link-slack-root'; incidentId: string; channel: string; ts: string; at: string }
  /** The incident's pager alert, kept from the first alert created. */
  | { kind: 'link-pager-alert'; incidentId: string; alertId: string; at: string }
  /**
   * The incident was gathered into a storm summary instead of a thread: its channel is the storm's, its Slack place the
   * summary message and, when `grouped`, its page the storm's one alert (adopted from deliveries that came first).
   */
  | { kind: 'join-storm'; incidentId: string; stormId: string; channel: string; grouped: boolean; at: string }
  /** A storm summary's root post: the Slack place of every member, kept from the first. */
  | { kind: 'link-storm-slack'; stormId: string; channel: string; ts: string; at: string }
  /** A storm's pager alert: the page of every member that pages through it, kept from the first. */
  | { kind: 'link-storm-pager'; stormId: string; alertId: string; at: string };

/** The changes that tie incidents to the storm they were gathered into. */
export type StormChange = Extract<IncidentChange, { kind: 'join-storm' | 'link-storm-slack' | 'link-storm-pager' }>;

/** A silence or maintenance window as its events describe it; whether it is active is the reader's question. */
export interface SilenceRow {
  silenceId: string;
  kind: 'silence' | 'maintenance';
  matchers: string[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  /** recordedAt of SilenceCreated. */
  createdAt: string;
  expiredAt: string | null;
  expiredBy: string | null;
}

export type SilenceChange =
  /** Insert when absent (the first SilenceCreated of an id wins). */
  | { kind: 'create-silence'; row: SilenceRow }
  /** End it early; the first expiry is kept, and an unknown silence is left alone. */
  | { kind: 'expire-silence'; silenceId: string; at: string; by: string }
  /** Forget silences that ended (endsAt, or expiredAt when earlier) before this instant. */
  | { kind: 'prune-silences'; endedBefore: string };

export type Change = IncidentChange | SilenceChange | NotificationChange;

/** Everything one event changes; applied all together, or not at all when its id was applied before. */
export interface Projection {
  eventId: string;
  timeline: TimelineRow;
  delivery: DeliveryRow | null;
  changes: Change[];
}

export type ApplyOutcome = 'applied' | 'duplicate';
