// The decider: decide(input, state, rules, context) → { events, state }, evolve, initialState.
export {
  decide,
  evolve,
  initialState,
  isIncidentEvent,
  isIncidentState,
  stateKey,
  ROUTER_SOURCE,
  SLACK_INPUT_TYPES,
  type AlertDecision,
  type AlertInput,
  type AlertState,
  type DeciderState,
  type Decision,
  type DecisionContext,
  type RouterInput,
  type ResolvedAlias,
  type RouterState,
  type SlackInput,
  isSuppressedFiring,
  type SuppressedFiring,
  type Inhibitor,
} from './decider';
export { DEFAULT_STATE_RETENTION_MS, EVICTION_GRACE_MS, ExpiryQueue, expiresAt, liveState } from './core/expiry';
export { StateIndex, type Neighbours } from './core/neighbours';
export { packState, unpackState, type PackedState } from './core/packed-state';
export { PackedStore, records as packedRecords } from './core/packed-store';
export { sharedNeighbours, type SharedFact } from './core/shared-facts';
export { SilenceBook, silenceEnded, type SilenceEvent, type SilenceLookup } from './core/silences';
export { Replayer, type ReplayerOptions } from './core/replay';
export { stormTick, type TickedStorm } from './core/storm-tick';
export { silenceEndTick } from './core/silence-end';
export { freedInhibitedFirings, INHIBITION_END_TICK_INTERVAL_MS, inhibitionEndTick } from './core/inhibition-end';
export { staleAt } from './core/suppressed-firing';
export { STORM_SUMMARY_INTERVAL_MS, stormSummaryKey, summaryStale, type SummaryShown } from './core/storm';
export { incidentIdOf } from './core/incident-id';
export { OWN_ACTION_ID_PREFIX } from './core/slack-format';
export { NO_SUCH_INCIDENT, parseSlash, SLASH_SILENCE_MAX_MS, slashIncidentId, slashKey, slashHelpText, type ParsedSlash, type SlashCommand } from './slack/slash';
export { namedIncidentId, namedIncidentCommand, type NamedIncidentCommand } from './slack/mention-key';

// Routing rules: compiled once into an immutable tree, matched by pure functions.
export { builtinRules, compileRules, sha256Hex, type CompileOptions, type CompileResult, type RulesProblem } from './rules/compile';
export { loadRules, RulesError } from './rules/load';
export { route, traceRules, type RuleTrace } from './rules/route';
export type { CompiledRules, CompiledTag, RoutableAlert, RoutableSlackMessage, Route } from './rules/types';

// Who may do what from Slack (the rules file's permissions:).
export { authorize, openPermissionsWarning, roleOf, NEEDED_ROLE, type Actor, type Authorization, type Role, type SlackAction } from './slack/authorize';

// What a rules file does with an input, and what it would have done with a past window.
export { explainAlert, explainCommand, explainSlackMessage, formatExplanation, type Explanation } from './explain';
export { Backtest, runBacktest, type BacktestInput, type BacktestReport, type BacktestSource, type PersonActionChange, type PersonActionResult, type PersonInput } from './backtest/backtest';
export { formatBacktest } from './backtest/format';
export { mergeByRecordedAt } from './backtest/merge';
