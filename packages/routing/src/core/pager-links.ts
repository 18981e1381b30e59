import { PAGER_ALIAS_LINKS_MAX, type Envelope, type SlackKeyState } from '@alertbus/schemas';
import type { RouterState } from '../state';
import type { Outputs } from './outputs';

export type PagerAliasLinkInput = Envelope<'PagerAliasLinked'>;

/** What the router keeps under a templated pager alias: the incidents paged under it. */
export type PagerAliasState = Extract<SlackKeyState, { kind: 'pager-alias' }>;

export function pagerAliasStateOf(s: RouterState | undefined): PagerAliasState | undefined {
  return s !== undefined && 'kind' in s && s.kind === 'pager-alias' ? s : undefined;
}

/**
 * The incident was paged under `pagerAlias`, not its own alias: the link travels to the pager alias's key as an input
 * of its own, since the pager's webhook keys the alert's actions by the alias the alert was created with.
 */
export function linkPagerAlias(out: Outputs, pagerAlias: string, alias: string, incidentId: string): void {
  out.add('PagerAliasLinked', { pagerAlias, alias, incidentId }, pagerAlias);
}

/**
 * Keeps the link at the pager alias: one per incident alias (its latest occurrence), the latest PAGER_ALIAS_LINKS_MAX.
 * A key that holds something else (an incident whose own alias the template happened to give) is left as it is: its
 * pager actions are that incident's.
 */
export function decidePagerAliasLinked(input: PagerAliasLinkInput, state: RouterState | undefined): { events: Outputs['events']; state: RouterState | undefined } {
  const held = pagerAliasStateOf(state);
  if (state !== undefined && held === undefined) return { events: [], state };
  const d = input.data;
  const links = [...(held?.links ?? []).filter((l) => l.alias !== d.alias), { alias: d.alias, incidentId: d.incidentId }].slice(-PAGER_ALIAS_LINKS_MAX);
  return { events: [], state: { kind: 'pager-alias', key: input.alias, inputId: input.id, at: input.recordedAt, links } };
}

/**
 * The `source` alertbus sends with every action it takes on a pager alert (services/opsgenie-sink, PAGER_SOURCE); the
 * pager's webhook reports it back as `source.name`.
 */
export const ALERTBUS_PAGER_SOURCE = 'alertbus';

/**
 * Whether the pager reports an action alertbus took itself: on a pager alert several incidents share, alertbus acks
 * or closes it for one of them (acked in Slack, resolved at the source), and that must not ack or resolve the others.
 */
export function isOwnPagerAction(input: Envelope<'PagerActionReceived'>): boolean {
  const raw = input.data.raw;
  if (typeof raw !== 'object' || raw === null) return false;
  const source = (raw as { source?: unknown }).source;
  return typeof source === 'object' && source !== null && (source as { name?: unknown }).name === ALERTBUS_PAGER_SOURCE;
}

/**
 * The action, sent on to each incident linked to the pager alias it arrived at, where it is decided as an action on the
 * incident's own pager alert. Ids derive from the action's, so deciding it again writes the same records.
 */
export function forwardPagerAction(out: Outputs, input: Envelope<'PagerActionReceived'>, links: PagerAliasState['links']): void {
  const { raw: _raw, sanitised: _sanitised, ...action } = input.data;
  for (const link of links) out.add('PagerActionForwarded', { ...action, receivedId: input.id, incidentId: link.incidentId }, link.alias);
}
