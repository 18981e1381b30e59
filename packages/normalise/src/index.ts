// Webhook payloads → AlertReceived.
export { normaliseAlertmanager } from './alerts/alertmanager';
export { TEXT_LIMITS, boundAlertText, cutJsonStrings, cutText, withCuts } from './alerts/bounds';
export { cutMark } from '@alertbus/schemas';
export { normaliseGeneric } from './alerts/generic';
export { normaliseGrafana } from './alerts/grafana';
export type { NormaliseResult, NormalisedAlert } from './alerts/result';
export { toAlertEnvelopes, type EnvelopeContext, type RequestCleaning } from './envelopes';
export { AlertmanagerAlert, AlertmanagerPayload } from './payloads/alertmanager';
export { AlertStatusField, StringMap } from './payloads/common';
export { GenericAlert, GenericBatch, GenericPayload } from './payloads/generic';
export { GrafanaAlert, GrafanaPayload } from './payloads/grafana';

// Slack Events API and interactivity payloads → SlackMessageReceived / SlackActionReceived.
export {
  normaliseSlackEvent,
  slackMessageAlias,
  type BotIdentity,
  type IgnoredReason,
  type SlackEventContext,
  type SlackEventResult,
} from './slack/normalise-event';
export { normaliseInteraction, parseButtonValue, type NormalisedAction, type SlackInteractionResult } from './slack/normalise-action';
export { responseUrlHost, responseUrlOrigins, responseUrlProblem, SLACK_RESPONSE_URL_HOSTS, type ResponseUrlOrigins } from './slack/response-url';
export { slackPermalink, slackTsToIso, unixSecondsToIso } from './slack/time';
export {
  SlackEventsBody,
  SlackInteractionBody,
  type SlackBlockActionWire,
  type SlackEventCallbackWire,
  type SlackInnerEventWire,
  type SlackMessageWire,
} from './slack/wire';
