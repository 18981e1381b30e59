import { Type, type Static } from '@sinclair/typebox';
import { alertValuesSchema, DecisionReason, Labels, Link, PagerPriority, RuleRef, Severity } from '../common';
import { PagerProvider } from './pager-received';
import { Id, Timestamp, slackTs } from './shared';

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

/**
 * What a router instance knew of the other instances' incidents when it decided: router.shared.v1 read up to
 * `offset` (exclusive). With the input and the alias's own state, this is all a replay needs to decide the same.
 */
export const SharedFactsSeen = Type.Object(
  { offset: Type.String({ pattern: '^[0-9]+$', description: 'Next offset of router.shared.v1 not yet read.' }) },
  { additionalProperties: false },
);
export type SharedFactsSeen = Static<typeof SharedFactsSeen>;

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

/** An incident that notifies: opened for the first time, or opened again after its alias resolved. */
const incidentOpening = (description: string) =>
  Type.Object(
    {
      ...incidentBase,
      description: Type.Optional(Type.String()),
      values: Type.Optional(alertValuesSchema("The measured values of the alert that opened it (AlertReceived.values), shown in its root message.")),
      links: Type.Array(Link),
      openedAt: Timestamp,
      startsAt: Type.Optional(
        Type.String({
          format: 'date-time',
          description:
            "When the sender says the alert started (Alertmanager's and Grafana's startsAt), when it said: a late firing or resolve of an earlier occurrence is told apart by it.",
        }),
      ),
      slack: Type.Optional(SlackTarget),
      pager: Type.Optional(PagerTarget),
      previousIncidentId: Type.Optional(Id),
      slackRequest: Type.Optional(SlackRequestRef),
      shared: Type.Optional(SharedFactsSeen),
    },
    { additionalProperties: false, description },
  );

export const IncidentOpened = incidentOpening('The first incident of an alias.');
export const IncidentReopened = incidentOpening(
  'A new incident for an alias whose previous incident was resolved (previousIncidentId names it).',
);
export const IncidentRepeated = Type.Object(
  {
    ...incidentBase,
    notified: Type.Boolean({ description: 'Whether the repeat was re-notified.' }),
    pager: Type.Optional(
      Type.Object(
        { ...PagerTarget.properties, raisedFrom: Type.Optional(PagerPriority) },
        {
          additionalProperties: false,
          description:
            'Set when this repeat paged an incident opened without a page (its alert now routes to one: its severity rose), or raised its open page\'s priority (`raisedFrom`: the priority it had).',
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export const IncidentUpdated = Type.Object(
  { ...incidentBase, changes: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);
/** Longest `byName` kept: the pager's own bound on a user (100), above Slack's display names (80). */
export const PERSON_NAME_MAX = 100;

/**
 * Who acted, as people know them: the Slack name the click or command carried, or the pager user. Optional (older
 * events have none); `by` stays the stable id (a Slack user id), since names change.
 */
const byName = Type.Optional(
  Type.String({ minLength: 1, maxLength: PERSON_NAME_MAX, description: "Who acted, by name, when the input named them (`by` is their id)." }),
);

/**
 * The pager the person acted in, when they acknowledged or resolved there: `by` is then the name the pager reported,
 * shown as text, never as a Slack mention. Optional: Slack's actions and older events have none.
 */
const actedInPager = Type.Optional(PagerProvider);

export const IncidentAcknowledged = Type.Object(
  { ...incidentBase, acknowledgedAt: Timestamp, by: Type.Optional(Type.String()), byName, provider: actedInPager },
  { additionalProperties: false },
);
/** A person took back the acknowledgement in the pager: the incident is open again, and the pager escalates again. */
export const IncidentUnacknowledged = Type.Object(
  { ...incidentBase, unacknowledgedAt: Timestamp, by: Type.Optional(Type.String()), provider: PagerProvider },
  { additionalProperties: false },
);
export const IncidentResolved = Type.Object(
  {
    ...incidentBase,
    resolvedAt: Timestamp,
    by: Type.Optional(Type.String()),
    byName,
    provider: actedInPager,
    endsAt: Type.Optional(
      Type.String({ format: 'date-time', description: "The sender's endsAt, when its resolve closed the incident: a firing delivered soon after that started no later is a late copy." }),
    ),
  },
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
        incidentId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'The inhibiting incident; absent when the inhibiting alert has none (see `source`).' })),
        alias: Type.String({ minLength: 1 }),
        inhibitRule: Type.String({ description: 'The inhibit rule: its name, else its path (inhibit[0]).' }),
        source: Type.Optional(
          Type.Object(
            {
              reason: Type.Union([Type.Literal('silenced'), Type.Literal('dropped-by-rule')]),
              title: Type.String(),
              silenceId: Type.Optional(Type.String({ minLength: 1 })),
              dropRule: Type.Optional(Type.String({ minLength: 1, description: 'The drop rule: its name, else its path.' })),
            },
            {
              additionalProperties: false,
              description: 'The inhibiting alert fires without an incident: a silence or a drop rule suppressed it, and it inhibits all the same (as in Alertmanager).',
            },
          ),
        ),
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
        pageGrouped: Type.Optional(
          Type.Boolean({ description: 'The incident pages through the storm\'s one pager alert (alias storm:{channel}:{since}) instead of its own.' }),
        ),
        pagePriority: Type.Optional(
          Type.Union(PagerPriority.anyOf, {
            description: "With pageGrouped: the priority of the storm's pager alert (its first grouped incident's). An incident whose own is higher pages on its own.",
          }),
        ),
        recent: Type.Optional(
          Type.Integer({ minimum: 0, description: 'Incidents for the channel opened within the window before this one, as the decision counted them.' }),
        ),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Silence id, inhibiting incident or storm summary that suppressed the input.' },
);
export type SuppressedBy = Static<typeof SuppressedBy>;

/** Who was refused what, and why (reason not-permitted): the audit answer to "why did my click do nothing?". */
export const Refusal = Type.Object(
  {
    action: Type.Union([Type.Literal('ack'), Type.Literal('resolve'), Type.Literal('silence'), Type.Literal('unsilence'), Type.Literal('cache-clear'), Type.Literal('command')]),
    user: Type.String({ minLength: 1, description: 'Slack user id of who asked.' }),
    role: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')], { description: 'The role the rules give them.' }),
    needed: Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')], { description: 'The role the action needs.' }),
    reason: Type.String({ description: 'Why, in words (which entry of `permissions:` gave the role).' }),
    groups: Type.Optional(Type.Array(Type.String(), { description: 'The user-group handles ingest found for them.' })),
  },
  { additionalProperties: false },
);
export type Refusal = Static<typeof Refusal>;

/** What a silenced or dropped firing kept as an inhibitor holds beyond the EventSuppressed that keeps (or refreshes) it. */
export const KeptFiring = Type.Object(
  {
    since: Timestamp,
    startsAt: Type.Optional(Type.String({ format: 'date-time', description: "The sender's startsAt of this firing." })),
    endsAt: Type.Optional(Type.String({ format: 'date-time', description: "The sender's endsAt of this firing, when it gave one." })),
    severity: Severity,
    source: Type.String(),
    labels: Labels,
    description: Type.Optional(Type.String({ description: "A silenced or inhibited firing's description, for the incident opened when its silence or inhibition ends." })),
    values: Type.Optional(alertValuesSchema("A silenced or inhibited firing's measured values, for the incident opened when its silence or inhibition ends.")),
    links: Type.Optional(Type.Array(Link, { description: "A silenced or inhibited firing's links, for the incident opened when its silence or inhibition ends." })),
  },
  { additionalProperties: false, description: 'since: when the first of the firings kept under the alias was recorded (this one, or an earlier one it refreshes).' },
);

export const EventSuppressed = Type.Object(
  {
    inputId: Id,
    inputType: Type.String(),
    reason: DecisionReason,
    rule: RuleRef,
    incidentId: Type.Optional(Id),
    title: Type.Optional(Type.String()),
    suppressedBy: Type.Optional(SuppressedBy),
    shared: Type.Optional(SharedFactsSeen),
    refused: Type.Optional(Refusal),
    endsAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          "A resolve that closed nothing but is remembered (already-resolved after a person's resolve, resolved-without-open-incident): " +
          "the sender's endsAt the alias's state now keeps, so a late copy of the firing opens nothing.",
      }),
    ),
    kept: Type.Optional(
      Type.Union([KeptFiring, Type.Literal(false)], {
        description:
          'Only where an alias keeps a silenced, dropped or inhibited firing (router state alert-suppressed): what that state holds ' +
          'besides what this event says already (its title, input, time, silence, drop rule or inhibitor), when this firing is kept or refreshes ' +
          'the one kept; false when it lets go of the one kept before (it matches no inhibit rule\'s source side). Absent otherwise, ' +
          'a late copy included (it leaves the kept firing as it was). So the kept firings can be rebuilt from incidents.v1, as a ' +
          'backtest does before its window.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type IncidentOpened = Static<typeof IncidentOpened>;
export type IncidentReopened = Static<typeof IncidentReopened>;
export type IncidentRepeated = Static<typeof IncidentRepeated>;
export type IncidentUpdated = Static<typeof IncidentUpdated>;
export type IncidentAcknowledged = Static<typeof IncidentAcknowledged>;
export type IncidentUnacknowledged = Static<typeof IncidentUnacknowledged>;
export type IncidentResolved = Static<typeof IncidentResolved>;
export type EventSuppressed = Static<typeof EventSuppressed>;
export type KeptFiring = Static<typeof KeptFiring>;
