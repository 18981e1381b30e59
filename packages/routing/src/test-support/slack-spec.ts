/** given(inputs) when(input) then(outputs) for the Slack decisions, over every key as the router sees them. */
import { AliasState, deriveId, schemaAjv, SlackKeyState, validateEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { evolve } from '../core/evolve';
import type { CompiledRules } from '../rules/types';
import type { SlackInput } from '../slack/decide';
import { isIncidentState, type RouterState } from '../state';
import { SlackRouterSim } from './slack';
import { specFor, type Decider, type SpecOptions } from '@alertbus/spec';

/** [type, data the event must contain, alias when it is not the input's]. */
export type Expected = [type: AnyEnvelope['type'], data?: Record<string, unknown>, alias?: string];

const validIncident = schemaAjv.compile(AliasState);
const validKeyState = schemaAjv.compile(SlackKeyState);

/** Every state fits its schema (so it survives the state topic), and an incident's is the fold of its events. */
function checkStates(sim: SlackRouterSim): void {
  for (const [key, s] of sim.states) {
    const valid = isIncidentState(s) ? validIncident : validKeyState;
    if (!valid(s)) throw new Error(`state of ${key} is not valid: ${schemaAjv.errorsText(valid.errors)}`);
    const f = sim.folds.get(key);
    if (isIncidentState(s) && f) expect(s).toEqual(f.events.reduce(evolve, f.from));
  }
}

function check(input: SlackInput, events: AnyEnvelope[]): void {
  let i = 0;
  for (const e of events) {
    const v = validateEnvelope(e);
    if (!v.ok) throw new Error(`${e.type} is not valid: ${v.error}`);
    if (e.causationId === input.id) {
      // Outputs of the input itself (not of what it forwarded): ids derived from it, its times.
      expect(e.id).toBe(deriveId(input.id, e.type, i++));
      expect(e).toMatchObject({ source: 'router', correlationId: input.correlationId, recordedAt: input.recordedAt });
    }
  }
}

export interface SlackOutcome {
  events: AnyEnvelope[];
  sim: SlackRouterSim;
}

type Given = SlackInput | RouterState;

/** The router over every key as a decider: the state is a SlackRouterSim folded from the given inputs and seeded states. */
function slackDecider(rules: CompiledRules): Decider<SlackInput, SlackRouterSim, Given, SlackOutcome> {
  return {
    initialState: () => new SlackRouterSim(rules),
    evolve: (sim, h) => {
      if ('type' in h && 'data' in h) sim.run(h as SlackInput);
      else sim.seed(h as RouterState);
      return sim;
    },
    decide: (input, sim) => ({ events: sim.run(input), sim }),
  };
}

const slackSpecOptions: SpecOptions<SlackInput, SlackRouterSim, Given, SlackOutcome, Expected[]> = {
  always: ({ events, sim }, { input }) => {
    check(input, events);
    checkStates(sim);
  },
  check: ({ events }, expected, { input }) => {
    expect(events.map((e) => e.type)).toEqual(expected.map(([t]) => t));
    expected.forEach(([, data, alias], i) => {
      if (data) expect(events[i]!.data).toMatchObject(data);
      // Without an alias, an output must be under the input's own key; the others say where they go.
      expect({ output: i, type: events[i]!.type, alias: events[i]!.alias }).toEqual({ output: i, type: events[i]!.type, alias: alias ?? input.alias });
    });
  },
};

/**
 * given(rules, inputs and seeded states) when(input) then(outputs). Each when of one given also joins
 * what later whens are given, as the router's keys carry on between inputs: a second click meets the first.
 */
export function given(rules: CompiledRules, ...history: Given[]) {
  const decider = slackDecider(rules);
  const spec = specFor(decider, slackSpecOptions);
  const past = [...history];
  return {
    /** The keys as the given inputs (and the whens so far) left them. */
    get sim(): SlackRouterSim {
      return past.reduce(decider.evolve, decider.initialState());
    },
    when(input: SlackInput) {
      const then = spec.given(...past).when(input);
      past.push(input);
      return then;
    },
  };
}
