import type { AliasState, SlackKeyState } from '@alertbus/schemas';
import type { CompiledRules } from '../rules/types';
import { decide, isIncidentState, stateKey, type Decision, type RouterInput } from './decider';
import { StateIndex } from './neighbours';
import type { SilenceLookup } from './silences';

/**
 * Decides a stream of inputs in order, as one router instance holding every partition would: each
 * decision sees its alias's state and every other alias's, and its result is kept for the next. Used by
 * tests and by the backtest; it only computes, it sends nothing.
 */
export class Replayer {
  readonly states: StateIndex;
  /** The Slack bookkeeping (command messages, thread links), by key. */
  private readonly keys = new Map<string, SlackKeyState>();

  constructor(
    private readonly rules: CompiledRules,
    private readonly opts: { silences?: SilenceLookup; states?: StateIndex } = {},
  ) {
    this.states = opts.states ?? new StateIndex();
  }

  decide(input: RouterInput): Decision {
    const before = this.states.get(input.alias) ?? this.keys.get(input.alias);
    const decision = decide(input, before, this.rules, {
      neighbours: this.states,
      ...(this.opts.silences ? { silences: this.opts.silences } : {}),
    });
    const s = decision.state;
    if (isIncidentState(s)) this.states.set(s);
    else if (s) this.keys.set(stateKey(s), s);
    return decision;
  }

  state(alias: string): AliasState | undefined {
    return this.states.get(alias);
  }
}
