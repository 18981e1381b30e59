import type { AnyEnvelope, Envelope } from '@alertbus/schemas';
import type { CompiledRules } from './rules/types';
import { decideAlert, type ResolvedAlias } from './core/alerts';
import type { DecisionContext } from './core/context';
import { liveState } from './core/expiry';
import type { DeciderState } from './core/evolve';
import { decideSlack, type SlackInput } from './slack/decide';
import { decideNotification, type NotificationInput } from './core/notifications';
import { decideStormTick, type StormTickInput } from './core/storm-tick';
import { decideInhibitionEnd, type InhibitionEndInput } from './core/inhibition-end';
import { decideSilenceEnd, type SilenceEndInput } from './core/silence-end';
import { decidePagerAction, decidePagerAlertCreated, type ForwardedPagerActionInput, type PagerActionInput, type PagerAlertCreatedInput } from './core/pager-actions';
import { decidePagerAliasLinked, decidePagerAliasResolved, type PagerAliasLinkInput, type PagerAliasResolveInput } from './core/pager-links';
import { isIncidentState, type RouterState } from './state';
import { isSuppressedFiring, type SuppressedFiring } from './core/suppressed-firing';

export { evolve, initialState, isIncidentEvent, type DeciderState } from './core/evolve';
export { ROUTER_SOURCE } from './core/outputs';
export type { DecisionContext } from './core/context';
export { isIncidentState, stateKey, type RouterState } from './state';
export { SLACK_INPUT_TYPES, type SlackInput } from './slack/decide';

/**
 * The inputs the router decides on, dispatched by type: alerts, the pager's actions (and the links of templated pager
 * aliases that lead them to their incidents), the Slack side (./slack), notifications and ticks.
 */
export type RouterInput =
  | AlertInput
  | SlackInput
  | NotificationInput
  | StormTickInput
  | SilenceEndInput
  | InhibitionEndInput
  | PagerActionInput
  | ForwardedPagerActionInput
  | PagerAliasLinkInput
  | PagerAliasResolveInput
  | PagerAlertCreatedInput;
export type { PagerActionInput } from './core/pager-actions';
export type { StormTickInput } from './core/storm-tick';
export type { SilenceEndInput } from './core/silence-end';
export type { InhibitionEndInput } from './core/inhibition-end';
export type AlertInput = Envelope<'AlertReceived'>;

export interface Decision {
  /** Incident events first, then Slack commands, then pager commands (then inputs the router sends itself). */
  events: AnyEnvelope[];
  state: RouterState | undefined;
}

/**
 * What an alert's alias holds: its incident, or the resolve of one it never saw fire (ResolvedAlias), or a firing a
 * silence or a drop rule suppressed, kept because it still inhibits (SuppressedFiring, in front of either of those).
 */
export type AlertState = DeciderState | ResolvedAlias | SuppressedFiring;
export type { ResolvedAlias } from './core/alerts';
export { isSuppressedFiring, type SuppressedFiring, type Inhibitor } from './core/suppressed-firing';

/** An alert's decision. */
export interface AlertDecision extends Decision {
  state: AlertState;
}

/**
 * Decides what an input means for its key: `decide(input, state, rules, context) → { events, state }`.
 * Pure: time is the input's recordedAt, never the clock, and everything else it looks at is passed in,
 * so the same input with the same state, rules and context always gives byte-identical events.
 */
export function decide(input: Envelope<'AlertReceived'>, state: RouterState | undefined, rules: CompiledRules, ctx?: DecisionContext): AlertDecision;
export function decide(input: RouterInput, state: RouterState | undefined, rules: CompiledRules, ctx?: DecisionContext): Decision;
export function decide(input: RouterInput, before: RouterState | undefined, rules: CompiledRules, ctx: DecisionContext = {}): Decision {
  const at = Date.parse(input.recordedAt);
  const state = liveState(before, at, ctx.retentionMs);
  switch (input.type) {
    case 'AlertReceived':
    case 'SilenceEndedTick':
    case 'InhibitionEndedTick': {
      // Other aliases' expired states count as absent too: the neighbours' answers take ctx.retentionMs. A kept firing's
      // earlier state expires on its own time, as it would have without the firing in front of it.
      const suppressed = isSuppressedFiring(state) ? state : undefined;
      const held = suppressed ? liveState(suppressed.previous, at, ctx.retentionMs) : state;
      const resolved = held !== undefined && !isIncidentState(held) && held.kind === 'alert-resolved' ? held : undefined;
      const incident = isIncidentState(held) ? held : undefined;
      if (input.type === 'AlertReceived') return decideAlert(input, incident, rules, ctx, resolved, suppressed);
      if (input.type === 'SilenceEndedTick') return decideSilenceEnd(input, incident, rules, ctx, resolved, suppressed) ?? { events: [], state };
      return decideInhibitionEnd(input, incident, rules, ctx, resolved, suppressed) ?? { events: [], state };
    }
    case 'NotificationRequested':
      return decideNotification(input, state, rules);
    case 'StormSummaryTick':
      return decideStormTick(input, state, ctx);
    case 'PagerActionReceived':
    case 'PagerActionForwarded':
      return decidePagerAction(input, state, rules, ctx);
    case 'PagerAliasLinked':
      return decidePagerAliasLinked(input, state);
    case 'PagerAliasResolved':
      return decidePagerAliasResolved(input, state, ctx);
    case 'PagerAlertCreated':
      return decidePagerAlertCreated(input, state);
    default:
      return decideSlack(input, state, rules, ctx);
  }
}
