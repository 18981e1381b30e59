import { Type, type Static } from '@sinclair/typebox';
import { Labels, Link, PagerPriority, RuleRef, Severity } from './common';

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
    labels: Labels,
    links: Type.Array(Link),
    openedAt: Timestamp,
    lastSeenAt: Timestamp,
    lastNotifiedAt: Timestamp,
    acknowledgedAt: Type.Optional(Timestamp),
    resolvedAt: Type.Optional(Timestamp),
    slackChannel: Type.Optional(Type.String({ description: 'Channel of the incident thread, when one was posted.' })),
    paged: Type.Boolean({ description: 'Whether a pager alert was created for this occurrence.' }),
    priority: Type.Optional(PagerPriority),
    pagerAlias: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'Alias of the pager alert, when a rule templated one (else the alias).' }),
    ),
    storm: Type.Optional(
      Type.Object(
        {
          id: Type.String({ minLength: 1, description: 'Incident id of the storm summary message this incident is listed in.' }),
          channel: Type.String({ minLength: 1 }),
          since: Timestamp,
          threshold: Type.Integer({ minimum: 1 }),
          window: Type.String(),
        },
        { additionalProperties: false, description: 'Set when storm control gathered this incident into a summary instead of a thread.' },
      ),
    ),
    rule: RuleRef,
    lastInputId: Type.String({ description: 'Id of the last input this state reflects.' }),
  },
  { additionalProperties: false },
);
export type AliasState = Static<typeof AliasState>;

/** Key of the records the router writes to each state partition to find that partition's end on restore. */
export const ROUTER_STATE_MARKER_KEY = '__restore_marker__';
