/** What the pure decider says a stream of alerts must produce, for the tests that run the same stream through the router. */
import { builtinRules, decide, type AlertState } from '@alertbus/routing';
import type { AnyEnvelope, Envelope } from '@alertbus/schemas';

/** The built-in rules' outputs for `inputs`, in input order (so in order per alias). */
export function expectedOutputs(inputs: Envelope<'AlertReceived'>[]): AnyEnvelope[] {
  const rules = builtinRules({ defaultChannel: '#alerts' });
  const states = new Map<string, AlertState>();
  const out: AnyEnvelope[] = [];
  for (const input of inputs) {
    const d = decide(input, states.get(input.alias), rules);
    states.set(input.alias, d.state);
    out.push(...d.events);
  }
  return out;
}
