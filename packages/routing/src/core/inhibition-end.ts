import { makeEnvelope, type Envelope } from '@alertbus/schemas';
import { decideAlert, type ResolvedAlias } from './alerts';
import type { DecisionContext } from './context';
import type { DeciderState } from './evolve';
import { findInhibition } from './inhibit';
import type { At } from './neighbours';
import { NO_NEIGHBOURS } from './neighbours';
import type { Outputs } from './outputs';
import { keptFiringAt, staleAt, type SuppressedFiring } from './suppressed-firing';
import { matchLabels } from '../rules/route';
import type { CompiledRules } from '../rules/types';

export type InhibitionEndInput = Envelope<'InhibitionEndedTick'>;

/**
 * A tick (router.ticks.v1, keyed by the alias): nothing inhibits any more the firing the alias keeps since an inhibit
 * rule muted it (a SuppressedFiring, reason inhibited, naming the tick's inhibitor; not resolved since and not expired:
 * its resolve or ROUTER_STATE_RETENTION removed it otherwise; nor stale: the sender's own endsAt of it, when it gave
 * one, not passed by the tick). The firing is decided again at the tick's time, as if its sender had sent it again: a
 * silence in force, another inhibition (or the same inhibitor back) or a drop rule suppress it; otherwise it opens an
 * incident and pages, as Alertmanager notifies at its group's next flush once the inhibiting alert resolved. Without
 * this, it paged only at its sender's next notification (Alertmanager's repeat_interval: 4 h by default). Nothing when
 * the alias keeps no such firing, so a tick redelivered, or written twice, pages nothing twice. Pure: the tick's
 * recordedAt is the time.
 */
export function decideInhibitionEnd(
  input: InhibitionEndInput,
  state: DeciderState,
  rules: CompiledRules,
  ctx: DecisionContext,
  resolvedAlias: ResolvedAlias | undefined,
  suppressed: SuppressedFiring | undefined,
): { events: Outputs['events']; state: DeciderState | ResolvedAlias | SuppressedFiring } | undefined {
  if (suppressed === undefined || suppressed.reason !== 'inhibited' || suppressed.inhibitedBy !== input.data.inhibitedBy) return undefined;
  if (staleAt(suppressed, Date.parse(input.recordedAt))) return undefined;
  return decideAlert(keptFiringAt(input, suppressed), state, rules, ctx, resolvedAlias, suppressed);
}

/**
 * Whether a firing kept while inhibited is still inhibited at `at` by what `ctx` holds: what the ticker asks before it
 * writes an InhibitionEndedTick (the decision asks again at the tick's own time).
 */
export function stillInhibited(kept: SuppressedFiring, rules: CompiledRules, ctx: Pick<DecisionContext, 'neighbours'>, at: At): boolean {
  const labels = matchLabels({ labels: kept.labels, source: kept.source, severity: kept.severity, status: 'firing', alias: kept.key });
  return findInhibition(rules, kept.key, labels, ctx.neighbours ?? NO_NEIGHBOURS, at) !== undefined;
}

/** A tick for the alias's firing kept while `inhibitedBy` inhibited it, at `recordedAt` (the wall clock of the instance that writes it; `id` unique). */
export function inhibitionEndTick(alias: string, inhibitedBy: string, recordedAt: string, id: string, source = 'router/ticker'): InhibitionEndInput {
  return makeEnvelope({ id, type: 'InhibitionEndedTick', alias, occurredAt: recordedAt, recordedAt, source, data: { inhibitedBy } });
}
