import { Type, type Static } from '@sinclair/typebox';
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
export const PagerActionReceived = Type.Object(
  {
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
    sanitised: Type.Optional(Sanitised),
    raw: Type.Unknown({ description: 'The webhook body as received (text cleaned as `sanitised` says).' }),
  },
  { additionalProperties: false },
);
export type PagerActionReceived = Static<typeof PagerActionReceived>;
