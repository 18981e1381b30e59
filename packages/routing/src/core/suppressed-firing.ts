import { makeEnvelope, matchesAll, type AlertSource, type AliasState, type AnyEnvelope, type Envelope, type SlackKeyState, type SuppressedBy } from '@alertbus/schemas';
import { withPseudoLabels } from '../rules/route';
import type { CompiledRules } from '../rules/types';
import type { RouterState } from '../state';

/**
 * A firing a silence, a drop rule or an inhibit rule suppressed while its alias had no open incident, kept under its
 * alias. A silenced or dropped one still inhibits: Alertmanager's inhibitor reads every firing alert, silenced or not,
 * so a silenced "ClusterDown" still mutes its "ServiceDown" targets. A silenced one pages when its silence ends, an
 * inhibited one (no inhibitor itself) when nothing inhibits it. Its resolve removes it, and it expires
 * ROUTER_STATE_RETENTION after its latest firing.
 */
export type SuppressedFiring = Extract<SlackKeyState, { kind: 'alert-suppressed' }>;

/** What an inhibit rule's source side may be: an open incident, or a firing kept as a SuppressedFiring. */
export type Inhibitor = AliasState | SuppressedFiring;

export function isSuppressedFiring(s: RouterState | undefined): s is SuppressedFiring {
  return s !== undefined && 'kind' in s && s.kind === 'alert-suppressed';
}

/**
 * A firing's description, measured values and links, those it has: kept with a silenced firing (in its state and its
 * EventSuppressed), so the incident opened when its silence ends shows what the alert said.
 */
export function whatItSays(a: Pick<SuppressedFiring, 'description' | 'values' | 'links'>): Pick<SuppressedFiring, 'description' | 'values' | 'links'> {
  return {
    ...(a.description !== undefined ? { description: a.description } : {}),
    ...(a.values !== undefined ? { values: a.values } : {}),
    ...(a.links !== undefined && a.links.length > 0 ? { links: a.links } : {}),
  };
}

/** What inhibit matchers see of an inhibitor: its labels and the pseudo-labels of its alert, as of a firing. */
export function inhibitorLabels(s: Pick<AliasState, 'labels' | 'source' | 'severity'>): Record<string, string> {
  return withPseudoLabels(s.labels, { source: s.source, severity: s.severity, status: 'firing' });
}

/** When the inhibitor started to fire as the router saw it: the incident's opening, else the first firing kept. */
export const inhibitorSince = (s: Inhibitor): string => ('kind' in s ? s.since : s.openedAt);

/**
 * Only a firing that matches the source side of some inhibit rule is kept: the others could inhibit nothing, and a drop
 * rule for a noisy alert would otherwise keep a state per alias it drops.
 */
export function mayInhibit(rules: CompiledRules, labels: Readonly<Record<string, string>>): boolean {
  return rules.inhibit.some((rule) => matchesAll(rule.source, labels));
}

/** How a suppression names its inhibitor: the incident, or the suppressed firing and what suppressed it. */
export function inhibitionBy(by: Inhibitor, inhibitRule: string): Extract<SuppressedBy, { kind: 'inhibition' }> {
  if (!('kind' in by)) return { kind: 'inhibition', incidentId: by.incidentId, alias: by.alias, inhibitRule };
  return {
    kind: 'inhibition',
    alias: by.key,
    inhibitRule,
    source: {
      // Never 'inhibited': a firing kept while inhibited is no inhibitor (the index leaves it out).
      reason: by.reason as Exclude<SuppressedFiring['reason'], 'inhibited'>,
      title: by.title,
      ...(by.silenceId !== undefined ? { silenceId: by.silenceId } : {}),
      ...(by.dropRule !== undefined ? { dropRule: by.dropRule } : {}),
    },
  };
}

/**
 * The kept firing as an alert received at `tick` (a SilenceEndedTick or an InhibitionEndedTick): its id is the tick's,
 * so the decision's event ids are its own.
 */
export function keptFiringAt(tick: AnyEnvelope, kept: SuppressedFiring): Envelope<'AlertReceived'> {
  return makeEnvelope({
    id: tick.id,
    type: 'AlertReceived',
    alias: tick.alias,
    occurredAt: tick.recordedAt,
    recordedAt: tick.recordedAt,
    source: tick.source,
    correlationId: tick.correlationId,
    data: {
      source: kept.source as AlertSource,
      status: 'firing',
      title: kept.title,
      severity: kept.severity,
      labels: kept.labels,
      ...whatItSays(kept),
      annotations: {},
      ...(kept.startsAt !== undefined ? { startsAt: kept.startsAt } : {}),
      ...(kept.endsAt !== undefined ? { endsAt: kept.endsAt } : {}),
      links: kept.links ?? [],
      raw: null,
    },
  });
}

/**
 * Stale: its sender said when it would end (a generic webhook may; Alertmanager never does for a firing) and sent no
 * newer firing by `atMs`. Alertmanager itself would count it resolved, so its tick pages nothing.
 */
export const staleAt = (kept: SuppressedFiring, atMs: number): boolean => kept.endsAt !== undefined && Date.parse(kept.endsAt) <= atMs;
