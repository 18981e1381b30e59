import { Type, type Static } from '@sinclair/typebox';
import { RuleRef } from '../common';
import { Sanitised } from './shared';

// ---------------------------------------------------------------- received from the pager (ingest → router)

/**
 * Which pager sent the action. Opsgenie's Webhook integration and Jira Service Management Operations' Webhook
 * integration post the same "alert action data" body; the route it came in on says which one.
 * Shape: https://docs.opsgenie.com/docs/marid-alert-action-data (Opsgenie) and
 * https://support.atlassian.com/jira-service-management-cloud/docs/alert-action-data-for-jira-edge-connector (JSM Ops).
 */
export const PagerProvider = Type.Union([Type.Literal('opsgenie'), Type.Literal('jsm')]);
export type PagerProvider = Static<typeof PagerProvider>;

/** The pager's own bounds (Alert API v2): alias 512, user 100; the rest are ids Opsgenie makes. */
export const PAGER_ACTION_LIMITS = { alias: 512, user: 100, action: 100, alertId: 100, integrationName: 200 } as const;

/**
 * An action somebody (or alertbus itself, through the API) took on a pager alert, as the pager's outgoing webhook
 * reported it: Acknowledge, Close, UnAcknowledge, AddNote, … The envelope's alias is the pager alert's alias, which is
 * the incident's alias unless a rule templated another one.
 */
/** What alertbus reads of a pager action: kept as sent on PagerActionReceived, and carried on to an incident by PagerActionForwarded. */
const pagerActionFields = {
  provider: PagerProvider,
  action: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.action, description: 'The webhook\'s `action` as sent: Create, Acknowledge, Close, …' }),
  alertId: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.alertId }),
  pagerAlias: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.alias, description: 'alert.alias: the alias alertbus created the pager alert with.' }),
  user: Type.Optional(
    Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.user, description: 'alert.username: who took the action (the API integration\'s user for actions made through the API).' }),
  ),
  alertCreatedAt: Type.Optional(Type.String({ format: 'date-time', description: 'alert.createdAt: when the pager alert was created.' })),
  integrationName: Type.Optional(Type.String({ maxLength: PAGER_ACTION_LIMITS.integrationName, description: 'The webhook integration that sent it.' })),
  authenticatedAs: Type.Optional(
    Type.String({ minLength: 1, description: 'Name of the INGEST_TOKENS entry the request was sent with.' }),
  ),
};

/**
 * An action somebody (or alertbus itself, through the API) took on a pager alert, as the pager's outgoing webhook
 * reported it: Acknowledge, Close, UnAcknowledge, AddNote, … The envelope's alias is the pager alert's alias, which is
 * the incident's alias unless a rule templated another one.
 */
export const PagerActionReceived = Type.Object(
  {
    ...pagerActionFields,
    sanitised: Type.Optional(Sanitised),
    raw: Type.Unknown({ description: 'The webhook body as received (text cleaned as `sanitised` says).' }),
  },
  { additionalProperties: false },
);
export type PagerActionReceived = Static<typeof PagerActionReceived>;

// ---------------------------------------------------------------- written by the router to itself (router → router)

/**
 * Most incidents one pager alias leads to: an Acknowledge or Close on its pager alert is forwarded to each, one record
 * apiece; past this the longest-linked resolved one is let go, or, when all are open, the longest-linked.
 */
export const PAGER_ALIAS_LINKS_MAX = 100;

/**
 * The router paged an incident under a pager alias other than its own (a rule's templated `pager.alias`): from now on
 * the pager alert's actions, which the webhook keys by the pager alias, lead back to the incident. Keyed by the pager
 * alias, so the link is kept where those actions arrive.
 */
export const PagerAliasLinked = Type.Object(
  {
    pagerAlias: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.alias }),
    alias: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.alias, description: "The incident's alias." }),
    incidentId: Type.String({ minLength: 1, description: 'The occurrence paged under the pager alias.' }),
  },
  { additionalProperties: false },
);
export type PagerAliasLinked = Static<typeof PagerAliasLinked>;

/**
 * An incident paged under a pager alias other than its own resolved at its source: keyed by the pager alias, whose
 * links know which other incidents still page through the same pager alert, so the alert is closed by the last of them
 * and only noted before.
 */
export const PagerAliasResolved = Type.Object(
  {
    pagerAlias: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.alias }),
    alias: Type.String({ minLength: 1, maxLength: PAGER_ACTION_LIMITS.alias, description: "The incident's alias." }),
    incidentId: Type.String({ minLength: 1, description: 'The occurrence that resolved.' }),
    title: Type.String({ description: "The incident's title, for the pager alert's note." }),
    rule: RuleRef,
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 25000, description: "A person's resolve (in Slack): what the pager is told, as its close's note." })),
    user: Type.Optional(Type.String({ description: "A person's resolve: who, for the pager's close." })),
  },
  { additionalProperties: false },
);
export type PagerAliasResolved = Static<typeof PagerAliasResolved>;

/**
 * A pager action that arrived at a pager alias with linked incidents, sent on to one of them: keyed by the incident's
 * alias, with the incident id the link was made for. Its id is derived from the action's, so a redelivery is the same
 * record. The webhook body stays on the PagerActionReceived it came from (`receivedId`).
 */
export const PagerActionForwarded = Type.Object(
  {
    ...pagerActionFields,
    receivedId: Type.String({ minLength: 1, description: 'Id of the PagerActionReceived forwarded.' }),
    incidentId: Type.String({ minLength: 1, description: 'The occurrence the pager alias was linked to.' }),
    stormReachedUpTo: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          "A Close of a storm's pager alert: when the latest-opened of the incidents it was forwarded to opened. One opened later was not reached by it (it joined while the Close's resolves were being decided).",
      }),
    ),
  },
  { additionalProperties: false },
);
export type PagerActionForwarded = Static<typeof PagerActionForwarded>;
