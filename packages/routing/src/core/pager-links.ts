import { PAGER_ALIAS_LINKS_MAX, type AliasState, type Envelope, type RuleRef, type SlackKeyState } from '@alertbus/schemas';
import type { RouterState } from '../state';
import type { DecisionContext } from './context';
import { liveState } from './expiry';
import type { At, Neighbours } from './neighbours';
import { Outputs } from './outputs';
import { truncate } from './text';
import { withoutCredentials } from './shown-text';

export type PagerAliasLinkInput = Envelope<'PagerAliasLinked'>;
export type PagerAliasResolveInput = Envelope<'PagerAliasResolved'>;

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

type PagerAliasLink = PagerAliasState['links'][number];

/**
 * Keeps the link at the pager alias: one per incident alias (its latest occurrence), at most PAGER_ALIAS_LINKS_MAX. Past
 * that the longest-linked resolved one is let go; only when all of them are open is the longest-linked open one, which
 * then neither hears of the pager's actions nor keeps the pager alert open. A key that holds something else (an
 * incident whose own alias the template happened to give) is left as it is: its pager actions are that incident's.
 */
export function decidePagerAliasLinked(input: PagerAliasLinkInput, state: RouterState | undefined): { events: Outputs['events']; state: RouterState | undefined } {
  const held = pagerAliasStateOf(state);
  if (state !== undefined && held === undefined) return { events: [], state };
  const d = input.data;
  const kept = (held?.links ?? []).filter((l) => l.alias !== d.alias);
  if (kept.length >= PAGER_ALIAS_LINKS_MAX) {
    const resolved = kept.findIndex((l) => l.resolved === true);
    kept.splice(resolved >= 0 ? resolved : 0, 1);
  }
  const links: PagerAliasLink[] = [...kept, { alias: d.alias, incidentId: d.incidentId, linkedAt: input.recordedAt }];
  return { events: [], state: { kind: 'pager-alias', key: input.alias, inputId: input.id, at: input.recordedAt, links } };
}

/**
 * A Close of the pager alert, forwarded to every linked incident, ends each of them: their links are marked resolved, so
 * none of them holds a later alert under the alias open, nor the pager alias from expiring.
 */
export function closedLinks(held: PagerAliasState, input: Envelope<'PagerActionReceived'>): PagerAliasState {
  const links = held.links.map((l) => (l.resolved === true ? l : { ...l, resolved: true as const }));
  return { ...held, inputId: input.id, at: input.recordedAt, links };
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
export function forwardPagerAction(
  out: Outputs,
  input: Envelope<'PagerActionReceived'>,
  links: PagerAliasState['links'],
  extra: { stormReachedUpTo?: string } = {},
): void {
  const { raw: _raw, sanitised: _sanitised, ...action } = input.data;
  for (const link of links) out.add('PagerActionForwarded', { ...action, receivedId: input.id, incidentId: link.incidentId, ...extra }, link.alias);
}

/** The note of the close of an incident's pager alert when its alert resolved at the source. */
export const RESOLVED_NOTE = 'Resolved at the source.';

/** The note on the pager alert when an incident paged through it resolved at its source, and it stays open for the others. */
export function sharedPageResolvedNote(title: string, alias: string, stillOpen: number, how = RESOLVED_NOTE): string {
  const others = stillOpen === 1 ? '1 other incident' : `${stillOpen} other incidents`;
  return `${how.replace(/\.$/, '')}: ${truncate(withoutCredentials(title), 200)} (${alias}). This alert stays open for ${others} still open on it.`;
}

/**
 * The incident resolved (at its source, or by a person: `user`) closes its pager alert; paged under a templated alias,
 * whose alert it may share with others, it tells the pager alias's key instead (decidePagerAliasResolved), which knows
 * them.
 */
export function closeOwnPage(out: Outputs, s: AliasState, rule: RuleRef, note: string, user?: string): void {
  const pagerAlias = s.pagerAlias ?? s.alias;
  const by = user !== undefined ? { user } : {};
  if (pagerAlias === s.alias) out.add('ClosePagerAlert', { incidentId: s.incidentId, rule, note, ...by }, pagerAlias);
  else out.add('PagerAliasResolved', { pagerAlias, alias: s.alias, incidentId: s.incidentId, title: s.title, rule, ...(user !== undefined ? { note, user } : {}) }, pagerAlias);
}

/**
 * Whether a link still pages through the alert: not one marked resolved, nor one whose occurrence its alias's state
 * shows resolved. A link an older alertbus kept (no linkedAt) may name an incident closed in the pager and never marked:
 * once that incident is forgotten (no state, or an expired one), it is over. A link with linkedAt is marked however its
 * incident resolves, so an incident missing from `neighbours` (other instances' not read yet) still counts as open.
 */
function stillOpen(link: PagerAliasLink, neighbours: Neighbours | undefined, at: At): boolean {
  if (link.resolved === true) return false;
  if (neighbours === undefined) return true;
  const s = neighbours.get(link.alias);
  if (s !== undefined && s.incidentId === link.incidentId && s.status === 'resolved') return false;
  return liveState(s, at.atMs, at.retentionMs) !== undefined || link.linkedAt !== undefined;
}

/**
 * One incident paged under the pager alias resolved at its source: the pager alert is closed when no other linked
 * incident is still open on it, else it gets a note and stays open for them. A key with no links (forgotten once all its
 * incidents resolved, or written before links were kept) or holding an incident of its own closes it, as one incident's
 * resolve always did.
 */
export function decidePagerAliasResolved(
  input: PagerAliasResolveInput,
  state: RouterState | undefined,
  ctx: Pick<DecisionContext, 'neighbours' | 'retentionMs'> = {},
): { events: Outputs['events']; state: RouterState | undefined } {
  const out = new Outputs(input);
  const d = input.data;
  const held = pagerAliasStateOf(state);
  const note = d.note ?? RESOLVED_NOTE;
  const by = d.user !== undefined ? { user: d.user } : {};
  if (held === undefined) {
    out.add('ClosePagerAlert', { incidentId: d.incidentId, rule: d.rule, note, ...by }, input.alias);
    return { events: out.events, state };
  }
  const links = held.links.map((l) => (l.alias === d.alias && l.incidentId === d.incidentId ? { ...l, resolved: true as const } : l));
  const at: At = { atMs: Date.parse(input.recordedAt), ...(ctx.retentionMs !== undefined ? { retentionMs: ctx.retentionMs } : {}) };
  const open = links.filter((l) => stillOpen(l, ctx.neighbours, at)).length;
  if (open === 0) out.add('ClosePagerAlert', { incidentId: d.incidentId, rule: d.rule, note, ...by }, input.alias);
  else out.add('AddPagerNote', { incidentId: d.incidentId, rule: d.rule, note: sharedPageResolvedNote(d.title, d.alias, open, note), ...by }, input.alias);
  return { events: out.events, state: { ...held, inputId: input.id, at: input.recordedAt, links } };
}

