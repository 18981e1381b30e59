import { Type, type Static } from '@sinclair/typebox';
import { alertValuesSchema, Labels, Link, PagerPriority, RuleRef, Severity } from './common';
import { PAGER_ALIAS_LINKS_MAX, PagerProvider, SharedFactsSeen, SlackRequestRef } from './events';

const Timestamp = Type.String({ format: 'date-time' });

/**
 * The router's latest knowledge of one alias: the value of the compacted router.state.v1 topic, keyed by
 * alias, so a restarted router decides exactly as the one that stopped would have.
 */
export const AliasState = Type.Object(
  {
    alias: Type.String({ minLength: 1, maxLength: 512 }),
    incidentId: Type.String({ minLength: 1 }),
    occurrence: Type.Integer({ minimum: 1, description: 'How many incidents this alias has had; the current one.' }),
    status: Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('resolved')]),
    count: Type.Integer({ minimum: 1, description: 'Firing notifications received in this occurrence.' }),
    title: Type.String(),
    severity: Severity,
    source: Type.String(),
    description: Type.Optional(Type.String()),
    values: Type.Optional(alertValuesSchema('The measured values of the alert that opened this occurrence, for its root message.')),
    labels: Labels,
    links: Type.Array(Link),
    openedAt: Timestamp,
    startsAt: Type.Optional(Type.String({ format: 'date-time', description: "The sender's startsAt of the alert that opened this occurrence." })),
    endsAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: "The sender's endsAt, when its resolve closed this occurrence (IncidentResolved.endsAt) or came after a person's (EventSuppressed.endsAt).",
      }),
    ),
    senderResolvedAt: Type.Optional(
      Type.String({ format: 'date-time', description: "When the sender's resolve came, for an occurrence a person resolved first (resolvedAt is the person's)." }),
    ),
    lastSeenAt: Timestamp,
    lastNotifiedAt: Timestamp,
    acknowledgedAt: Type.Optional(Timestamp),
    resolvedAt: Type.Optional(Timestamp),
    slackChannel: Type.Optional(Type.String({ description: 'Channel of the incident thread, when one was posted.' })),
    mentionOnCall: Type.Optional(Type.String({ description: 'Schedule whose on-call is mentioned in the thread (slack.mention_oncall).' })),
    paged: Type.Boolean({ description: 'Whether a pager alert was created for this occurrence.' }),
    priority: Type.Optional(PagerPriority),
    pagerAlias: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'Alias of the pager alert, when a rule templated one (else the alias).' }),
    ),
    pagerAlertId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: "Id of this occurrence's own pager alert, once the pager sink reported it created (PagerAlertCreated): an action on another alert is an earlier occurrence's.",
      }),
    ),
    storm: Type.Optional(
      Type.Object(
        {
          id: Type.String({ minLength: 1, description: 'Incident id of the storm summary message this incident is listed in.' }),
          channel: Type.String({ minLength: 1 }),
          since: Timestamp,
          threshold: Type.Integer({ minimum: 1 }),
          window: Type.String(),
          pageGrouped: Type.Optional(
            Type.Boolean({ description: 'Its page is the storm\'s one pager alert (alias storm:{channel}:{since}), not one of its own.' }),
          ),
          pagePriority: Type.Optional(PagerPriority),
        },
        { additionalProperties: false, description: 'Set when storm control gathered this incident into a summary instead of a thread.' },
      ),
    ),
    slackRequest: Type.Optional(
      Type.Object({ ...SlackRequestRef.properties, deleted: Type.Optional(Type.Boolean({ description: 'The message was deleted.' })) }, {
        additionalProperties: false,
        description: 'Slack incidents: the message it was opened from (its latest text), the thread it is answered in.',
      }),
    ),
    acknowledgedBy: Type.Optional(Type.String({ description: 'Who acknowledged: a Slack user id for clicks and commands, the pager user when acknowledgedIn is set.' })),
    acknowledgedIn: Type.Optional(
      Type.Union(PagerProvider.anyOf, { description: 'The pager it was acknowledged in (IncidentAcknowledged.provider): acknowledgedBy is then a name shown as text.' }),
    ),
    resolvedBy: Type.Optional(Type.String({ description: 'Who resolved, when a person did.' })),
    resolvedIn: Type.Optional(
      Type.Union(PagerProvider.anyOf, { description: 'The pager it was resolved in (IncidentResolved.provider): resolvedBy is then a name shown as text.' }),
    ),
    rule: RuleRef,
    lastInputId: Type.String({ description: 'Id of the last input this state reflects.' }),
  },
  { additionalProperties: false },
);
export type AliasState = Static<typeof AliasState>;

const keyStateBase = {
  key: Type.String({ minLength: 1, maxLength: 600 }),
  inputId: Type.String({ minLength: 1, description: 'The input that set it.' }),
  at: Timestamp,
};

const AlertResolvedState = Type.Object(
  { kind: Type.Literal('alert-resolved'), ...keyStateBase, endsAt: Timestamp },
  {
    additionalProperties: false,
    description: "A resolve for an alias with no incident (key: the alias), and its sender's endsAt: a late firing of the occurrence it ended opens nothing.",
  },
);

/**
 * The router's Slack bookkeeping, stored next to AliasState on router.state.v1 under keys that are not
 * incident aliases: a message that was a command (so its redeliveries are recognised), and the incident
 * a Slack thread belongs to (key slack-thread:{channel}:{ts}); and, by the same means, the incidents paged
 * under a templated pager alias (key: the pager alias).
 */
export const SlackKeyState = Type.Union([
  Type.Object(
    { kind: Type.Literal('slack-command'), ...keyStateBase, command: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('slack-thread'),
      ...keyStateBase,
      channel: Type.String({ minLength: 1 }),
      threadTs: Type.String({ minLength: 1 }),
      alias: Type.String({ minLength: 1, maxLength: 512 }),
      incidentId: Type.String({ minLength: 1 }),
    },
    { additionalProperties: false },
  ),
  AlertResolvedState,
  Type.Object(
    {
      kind: Type.Literal('alert-suppressed'),
      ...keyStateBase,
      since: Type.String({ format: 'date-time', description: 'When the first of its firings kept here was recorded (`at`: the latest).' }),
      startsAt: Type.Optional(Type.String({ format: 'date-time', description: "The sender's startsAt of the latest firing." })),
      endsAt: Type.Optional(
        Type.String({
          format: 'date-time',
          description:
            "The sender's endsAt of the latest firing, when it gave one (Alertmanager never does for a firing): past it with no newer firing, the alert counts as over and its silence's end pages nothing.",
        }),
      ),
      title: Type.String(),
      severity: Severity,
      source: Type.String(),
      labels: Labels,
      description: Type.Optional(
        Type.String({ description: "A silenced or inhibited firing's description: what the incident opened when its silence or inhibition ends shows, as the alert's own would." }),
      ),
      values: Type.Optional(alertValuesSchema("A silenced or inhibited firing's measured values, for the incident opened when its silence or inhibition ends.")),
      links: Type.Optional(Type.Array(Link, { description: "A silenced or inhibited firing's links (runbook, dashboard), for the incident opened when its silence or inhibition ends." })),
      reason: Type.Union([Type.Literal('silenced'), Type.Literal('dropped-by-rule'), Type.Literal('inhibited')]),
      silenceId: Type.Optional(Type.String({ minLength: 1, description: 'The silence that suppressed the latest firing.' })),
      dropRule: Type.Optional(Type.String({ minLength: 1, description: 'The drop rule that suppressed the latest firing: its name, else its path.' })),
      inhibitedBy: Type.Optional(
        Type.String({ minLength: 1, maxLength: 512, description: 'The alias of the incident or kept firing that inhibited the latest firing (reason inhibited).' }),
      ),
      inhibitRule: Type.Optional(Type.String({ description: 'The inhibit rule that muted the latest firing: its name, else its path (reason inhibited).' })),
      previous: Type.Optional(
        Type.Union([AliasState, AlertResolvedState], { description: "What the alias held before: its resolved incident, or the resolve kept for it." }),
      ),
    },
    {
      additionalProperties: false,
      description:
        'A firing silenced, dropped by a rule or inhibited while its alias had no open incident (key: the alias), until its resolve or ROUTER_STATE_RETENTION after its latest firing. A silenced or dropped one still inhibits the targets of the inhibit rules whose source it matches, as in Alertmanager; a silenced one is decided again when its silence ends (SilenceEndedTick), an inhibited one when nothing inhibits it any more (InhibitionEndedTick). An inhibited one inhibits nothing: two alerts that are each other\'s source would mute each other for as long as both fire.',
    },
  ),
  Type.Object(
    { kind: Type.Literal('notification'), ...keyStateBase, channel: Type.Optional(Type.String({ minLength: 1 })) },
    { additionalProperties: false, description: 'A notification with a dedupKey was posted (key notify:{tag}:{dedupKey}).' },
  ),
  Type.Object(
    {
      kind: Type.Literal('pager-alias'),
      ...keyStateBase,
      links: Type.Array(
        Type.Object(
          {
            alias: Type.String({ minLength: 1, maxLength: 512 }),
            incidentId: Type.String({ minLength: 1 }),
            resolved: Type.Optional(
              Type.Literal(true, { description: 'The occurrence resolved: at its source or in Slack (PagerAliasResolved), or by a Close of the pager alert.' }),
            ),
            linkedAt: Type.Optional(
              Type.String({
                format: 'date-time',
                description:
                  'When it was linked. A link without it was kept by an older alertbus, which did not mark an occurrence closed in the pager resolved: it keeps the pager alias from expiring for no longer than the retention, and once its incident is forgotten it counts as resolved.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        {
          maxItems: PAGER_ALIAS_LINKS_MAX,
          description: 'The incidents paged under it, longest-linked first; one per alias, its latest occurrence. While one (with linkedAt) is not resolved, the state does not expire.',
        },
      ),
    },
    {
      additionalProperties: false,
      description: "A pager alias a rule templated (key: the pager alias): the incidents paged under it, so its pager alert's acks and closes reach them.",
    },
  ),
  Type.Object(
    {
      kind: Type.Literal('storm-summary'),
      ...keyStateBase,
      shown: Type.Object(
        {
          total: Type.Integer({ minimum: 0 }),
          open: Type.Integer({ minimum: 0 }),
          lastChangeAt: Timestamp,
        },
        { additionalProperties: false, description: 'What the update a tick wrote showed: the counts, and the storm\'s latest change then.' },
      ),
      shared: Type.Optional(SharedFactsSeen),
    },
    {
      additionalProperties: false,
      description: 'A storm summary a tick updated (key storm:{channel}:{since}): a later tick updates it only if the storm changed since.',
    },
  ),
]);
export type SlackKeyState = Static<typeof SlackKeyState>;

/** Key of the records the router writes to each state partition to find that partition's end on restore. */
export const ROUTER_STATE_MARKER_KEY = '__restore_marker__';
