import { matchesAll, type AliasState } from '@alertbus/schemas';
import type { CompiledInhibitRule, CompiledRules } from '../rules/types';
import type { Neighbours } from './neighbours';

export interface Inhibition {
  rule: CompiledInhibitRule;
  by: AliasState;
}

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
  for (let i = 0; i < rules.inhibit.length; i++) {
    const rule = rules.inhibit[i]!;
    if (!matchesAll(rule.target, labels)) continue;
    const by = neighbours.inhibitor(rules, i, alias, labels, matchesAll(rule.source, labels));
    if (by) return { rule, by };
  }
  return undefined;
}
