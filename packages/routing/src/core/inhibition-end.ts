import { makeEnvelope, matchesAll, type Envelope } from '@alertbus/schemas';
import { decideAlert, type ResolvedAlias } from './alerts';
import type { DecisionContext } from './context';
import type { DeciderState } from './evolve';
import { findInhibition } from './inhibit';
import { liveState } from './expiry';
import type { At, StateIndex } from './neighbours';
import { equalKey, NO_NEIGHBOURS } from './neighbours';
import type { Outputs } from './outputs';
import { inhibitorLabels, keptFiringAt, staleAt, type SuppressedFiring } from './suppressed-firing';
import { matchLabels } from '../rules/route';
import type { CompiledRules } from '../rules/types';

export type InhibitionEndInput = Envelope<'InhibitionEndedTick'>;

/** How often the router's inhibition-end ticker looks (its default): a freed firing pages at most this late. */
export const INHIBITION_END_TICK_INTERVAL_MS = 5_000;

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
  return findInhibition(rules, kept.key, labelsOf(kept), ctx.neighbours ?? NO_NEIGHBOURS, at) !== undefined;
}

const labelsOf = (kept: SuppressedFiring) => matchLabels({ labels: kept.labels, source: kept.source, severity: kept.severity, status: 'firing', alias: kept.key });

/**
 * Of the kept inhibited firings that nothing inhibits now (`freed`, as stillInhibited says), those to tick first: not
 * one that another of them would inhibit once it opens. A kept inhibited firing inhibits nothing, so when ClusterDown
 * resolves, a PodDown that NodeDown mutes too (a chain of inhibit rules) looks free as well; ticked together, the
 * PodDown would page or not by which tick is decided first. It waits instead: once the NodeDown opened, it is inhibited
 * again (as Alertmanager keeps it, its inhibited NodeDown still a source), and if the NodeDown opens nothing it is
 * free at the next look. When every one would be inhibited by another (inhibit rules in a cycle), the earliest kept
 * goes first. Linear in the freed firings and the inhibit rules.
 */
export function firstToTick(freed: readonly SuppressedFiring[], rules: CompiledRules): SuppressedFiring[] {
  if (freed.length < 2 || rules.inhibit.length === 0) return [...freed];
  // Per rule, by `equal` labels: the freed firings that match its source side (and whether its target side too).
  const sources = rules.inhibit.map(() => new Map<string, { sourceOnly: string[]; both: string[] }>());
  for (const g of freed) {
    const gl = inhibitorLabels(g);
    rules.inhibit.forEach((rule, i) => {
      if (!matchesAll(rule.source, gl)) return;
      const key = equalKey(rule, gl);
      let bucket = sources[i]!.get(key);
      if (!bucket) sources[i]!.set(key, (bucket = { sourceOnly: [], both: [] }));
      (matchesAll(rule.target, gl) ? bucket.both : bucket.sourceOnly).push(g.key);
    });
  }
  const waiting = (f: SuppressedFiring): boolean => {
    const fl = labelsOf(f);
    return rules.inhibit.some((rule, i) => {
      if (!matchesAll(rule.target, fl)) return false;
      const bucket = sources[i]!.get(equalKey(rule, fl));
      if (!bucket) return false;
      // As in findInhibition: equal alerts (both sides each) never mute each other.
      const by = matchesAll(rule.source, fl) ? bucket.sourceOnly : [...bucket.sourceOnly, ...bucket.both];
      return by.some((alias) => alias !== f.key);
    });
  };
  const first = freed.filter((f) => !waiting(f));
  if (first.length > 0) return first;
  const earliest = freed.reduce((a, b) => (Date.parse(b.since) < Date.parse(a.since) || (b.since === a.since && b.key < a.key) ? b : a));
  return [earliest];
}

/**
 * One look of the inhibition-end ticker over what `index` holds at `atMs`: the kept inhibited firings (live, not stale)
 * that nothing inhibits any more, those to tick first (firstToTick). The router's ticker asks it of its own index; a
 * backtest of its candidate's, so a candidate that mutes what the router did not frees it as the router would have.
 */
export function freedInhibitedFirings(index: StateIndex, rules: CompiledRules, atMs: number, retentionMs: number): SuppressedFiring[] {
  const at = { atMs, retentionMs };
  const freed: SuppressedFiring[] = [];
  for (const f of index.suppressedFirings()) {
    if (f.reason !== 'inhibited' || f.inhibitedBy === undefined) continue;
    if (liveState(f, atMs, retentionMs) === undefined || staleAt(f, atMs)) continue;
    if (!stillInhibited(f, rules, { neighbours: index }, at)) freed.push(f);
  }
  return firstToTick(freed, rules);
}

/** A tick for the alias's firing kept while `inhibitedBy` inhibited it, at `recordedAt` (the wall clock of the instance that writes it; `id` unique). */
export function inhibitionEndTick(alias: string, inhibitedBy: string, recordedAt: string, id: string, source = 'router/ticker'): InhibitionEndInput {
  return makeEnvelope({ id, type: 'InhibitionEndedTick', alias, occurredAt: recordedAt, recordedAt, source, data: { inhibitedBy } });
}
