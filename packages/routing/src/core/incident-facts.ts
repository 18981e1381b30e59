import type { AliasState, DecisionReason, IncidentStatus, Labels, RuleRef } from '@alertbus/schemas';

export interface FactsChange {
  inputId: string;
  rule: RuleRef;
  reason: DecisionReason;
  status?: IncidentStatus;
  count?: number;
  labels?: Labels;
  title?: string;
}

/** The fields every decision about an existing incident repeats from its state, with what this decision changes. */
export function incidentFacts(s: AliasState, change: FactsChange) {
  return {
    incidentId: s.incidentId,
    occurrence: s.occurrence,
    title: change.title ?? s.title,
    severity: s.severity,
    source: s.source,
    status: change.status ?? s.status,
    count: change.count ?? s.count,
    reason: change.reason,
    rule: change.rule,
    inputId: change.inputId,
    labels: change.labels ?? s.labels,
  };
}
