import type { AliasState } from '@alertbus/schemas';
import { matchesAll } from '@alertbus/schemas';
import type { CompiledInhibitRule, CompiledRules } from '../rules/types';
import type { Neighbours } from './neighbours';

export interface Inhibition {
  rule: CompiledInhibitRule;
  by: AliasState;
}

/** What inhibit matchers see of an open incident: its labels and the pseudo-labels of the alert that opened it. */
export function incidentLabels(s: AliasState): Record<string, string> {
  return { ...s.labels, source: s.source, severity: s.severity, status: 'firing' };
}

const earlier = (a: AliasState, b: AliasState) => a.openedAt < b.openedAt || (a.openedAt === b.openedAt && a.alias < b.alias);

/**
 * The first inhibit rule (in file order) under which an open incident of another alias mutes this input,
 * and the earliest opened such incident. As in Alertmanager, an incident that matches both sides of a rule
 * does not mute an input that matches both sides too (equal alerts never mute each other), and a label
 * listed in `equal` that both lack counts as equal.
 */
export function findInhibition(
  rules: CompiledRules,
  alias: string,
  labels: Readonly<Record<string, string>>,
  neighbours: Neighbours,
): Inhibition | undefined {
  for (const rule of rules.inhibit) {
    if (!matchesAll(rule.target, labels)) continue;
    const inputIsSource = matchesAll(rule.source, labels);
    let best: AliasState | undefined;
    for (const s of neighbours.open()) {
      if (s.alias === alias) continue;
      const sl = incidentLabels(s);
      if (!matchesAll(rule.source, sl)) continue;
      if (inputIsSource && matchesAll(rule.target, sl)) continue;
      if (!rule.equal.every((name) => (sl[name] ?? '') === (labels[name] ?? ''))) continue;
      if (!best || earlier(s, best)) best = s;
    }
    if (best) return { rule, by: best };
  }
  return undefined;
}
