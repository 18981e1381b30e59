/** given(inputs) when(input) then(outputs) for the Slack decisions, over every key as the router sees them. */
import { AliasState, deriveId, schemaAjv, SlackKeyState, validateEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { evolve } from '../core/evolve';
import type { CompiledRules } from '../rules/types';
import type { SlackInput } from '../slack/decide';
import { isIncidentState, type RouterState } from '../state';
import { SlackRouterSim } from './slack';

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

export function given(rules: CompiledRules, ...history: Array<SlackInput | RouterState>) {
  const sim = new SlackRouterSim(rules);
  for (const h of history) {
    if ('type' in h && 'data' in h) sim.run(h as SlackInput);
    else sim.seed(h as RouterState);
  }
  return {
    sim,
    when(input: SlackInput) {
      const events = sim.run(input);
      check(input, events);
      checkStates(sim);
      return {
        events,
        sim,
        then(expected: Expected[]) {
          expect(events.map((e) => e.type)).toEqual(expected.map(([t]) => t));
          expected.forEach(([, data, alias], i) => {
            if (data) expect(events[i]!.data).toMatchObject(data);
            expect(events[i]!.alias).toBe(alias ?? events[i]!.alias);
          });
          return { events, sim };
        },
      };
    },
  };
}
