import type { AnyEnvelope, Envelope } from '@alertbus/schemas';
import type { CompiledRules } from '../rules/types';
import { decideAlert } from './alerts';
import type { DecisionContext } from './context';
import type { DeciderState } from './evolve';

export { evolve, initialState, isIncidentEvent, type DeciderState } from './evolve';
export { ROUTER_SOURCE } from './outputs';
export type { DecisionContext } from './context';

/**
 * The inputs the router decides on, dispatched by type. Slack messages and actions join this union (with
 * their own decide function) when the router consumes slack.received.v1.
 */
export type RouterInput = Envelope<'AlertReceived'>;

export interface Decision {
  /** Incident events first, then Slack commands, then pager commands. */
  events: AnyEnvelope[];
  state: DeciderState;
}

/**
 * Decides what an input means for its alias: `decide(input, state, rules, context) → { events, state }`.
 * Pure: time is the input's recordedAt, never the clock, and everything else it looks at is passed in,
 * so the same input with the same state, rules and context always gives byte-identical events.
 */
export function decide(input: RouterInput, state: DeciderState, rules: CompiledRules, ctx: DecisionContext = {}): Decision {
  switch (input.type) {
    case 'AlertReceived':
      return decideAlert(input, state, rules, ctx);
  }
}
