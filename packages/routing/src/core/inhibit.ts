import { matchesAll } from '@alertbus/schemas';
import type { CompiledInhibitRule, CompiledRules } from '../rules/types';
import type { At, Neighbours } from './neighbours';
import type { Inhibitor } from './suppressed-firing';

export interface Inhibition {
  rule: CompiledInhibitRule;
  by: Inhibitor;
}

/**
 * The first inhibit rule (in file order) under which an open incident or a suppressed firing (SuppressedFiring: a
 * silence or a drop rule suppressed it, and it still fires) of another alias mutes this input, and the earliest such
 * one. As in Alertmanager, an incident that matches both sides of a rule
 * does not mute an input that matches both sides too (equal alerts never mute each other), and a label
 * listed in `equal` that both lack counts as equal.
 */
export function findInhibition(
  rules: CompiledRules,
  alias: string,
  labels: Readonly<Record<string, string>>,
  neighbours: Neighbours,
  at?: At,
): Inhibition | undefined {
  for (let i = 0; i < rules.inhibit.length; i++) {
    const rule = rules.inhibit[i]!;
    if (!matchesAll(rule.target, labels)) continue;
    const by = neighbours.inhibitor(rules, i, alias, labels, matchesAll(rule.source, labels), at);
    if (by) return { rule, by };
  }
  return undefined;
}
