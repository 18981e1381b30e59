import type { AliasState, DecisionReason, Envelope, PagerProvider, RuleRef } from '@alertbus/schemas';
import type { CompiledRules } from '../rules/types';
import { isIncidentState, type RouterState } from '../state';
import { stormOnAcknowledge, stormOnResolve, stormOnUnacknowledge, stormPageAfterClose } from './alerts';
import type { DecisionContext } from './context';
import { incidentFacts } from './incident-facts';
import { NO_NEIGHBOURS, type At } from './neighbours';
import { stormOfKey, stormSummaryKey } from './storm';
import { Outputs } from './outputs';
import { incidentView, renderRoot } from './render';
import { closedLinks, forwardPagerAction, isOwnPagerAction, pagerAliasStateOf } from './pager-links';
import { escapeMrkdwn, pagerUserText, truncate } from './text';
import { withoutCredentials } from './shown-text';
import { withChanges } from './evolve';
import { byNameOf } from './person';

/** An action on a pager alert as the webhook reported it, keyed by the pager alert's alias. */
export type PagerActionInput = Envelope<'PagerActionReceived'>;
/** The same action, forwarded from a templated pager alias to an incident linked to it (pager-links.ts). */
export type ForwardedPagerActionInput = Envelope<'PagerActionForwarded'>;
type AnyPagerAction = PagerActionInput | ForwardedPagerActionInput;

/** The pager's actions that change the incident; every other one (AddNote, Create, …) is recorded only. */
const ACTIONS: ReadonlyMap<string, 'ack' | 'unack' | 'resolve'> = new Map([
  ['Acknowledge', 'ack'],
  ['UnAcknowledge', 'unack'],
  ['Close', 'resolve'],
]);

export const PAGER_NAMES: Readonly<Record<PagerProvider, string>> = { opsgenie: 'Opsgenie', jsm: 'Jira Service Management' };

/**
 * How long before an occurrence opened its pager alert may have been created and still be its own: the pager's clock
 * and alertbus's differ a little, and the create runs after the incident opened, never before. An alert created
 * earlier than that is an earlier occurrence's (its late Close must not end the open one).
 */
export const PAGER_CLOCK_SLACK_MS = 60_000;

export function pagerAcknowledgedText(provider: PagerProvider, user: string | undefined): string {
  return `Acknowledged in ${PAGER_NAMES[provider]} by ${pagerUserText(user)}.`;
}

export function pagerUnacknowledgedText(provider: PagerProvider, user: string | undefined): string {
  return `Unacknowledged in ${PAGER_NAMES[provider]} by ${pagerUserText(user)}: the pager escalates again.`;
}

export function pagerResolvedText(provider: PagerProvider, user: string | undefined, title: string): string {
  return `Resolved in ${PAGER_NAMES[provider]} by ${pagerUserText(user)}: ${escapeMrkdwn(truncate(withoutCredentials(title), 120))}`;
}

const pagerAliasOf = (s: AliasState) => s.pagerAlias ?? s.alias;
const refOf = (s: AliasState | undefined, rules: CompiledRules): RuleRef => s?.rule ?? { path: 'defaults', rulesVersion: rules.version };
const atOf = (input: AnyPagerAction, ctx: PagerActionContext) => ({ atMs: Date.parse(input.recordedAt), ...(ctx.retentionMs !== undefined ? { retentionMs: ctx.retentionMs } : {}) });

function suppress(out: Outputs, input: AnyPagerAction, reason: DecisionReason, rule: RuleRef, s: AliasState | undefined): void {
  out.add('EventSuppressed', { inputId: input.id, inputType: input.type, reason, rule, ...(s ? { incidentId: s.incidentId, title: s.title } : {}) });
}

/** A reply in the incident's thread: the root alertbus posted (alerts), or the request's own thread (Slack incidents). */
function reply(out: Outputs, s: AliasState, text: string): void {
  if (s.slackChannel !== undefined) {
    out.add('PostSlackMessage', { incidentId: s.incidentId, rule: s.rule, channel: s.slackChannel, purpose: 'reply', text });
  } else if (s.slackRequest) {
    out.add('PostSlackReply', { incidentId: s.incidentId, rule: s.rule, channel: s.slackRequest.channel, threadTs: s.slackRequest.threadTs, text });
  }
}

/**
 * Whether the pager alert is not the open occurrence's: another alert than the one its create reported, or, before
 * that report is back, one created before the occurrence opened.
 */
function earlierOccurrence(input: AnyPagerAction, s: AliasState): boolean {
  if (s.pagerAlertId !== undefined) return input.data.alertId !== s.pagerAlertId;
  const created = input.data.alertCreatedAt;
  return created !== undefined && Date.parse(created) < Date.parse(s.openedAt) - PAGER_CLOCK_SLACK_MS;
}

/** The pager sink's report that it created a pager alert (deliveries.v1, keyed by the alias the alert has). */
export type PagerAlertCreatedInput = Envelope<'PagerAlertCreated'>;

/**
 * Keeps the id of the incident's own pager alert with its occurrence, so that an action on another alert of the alias
 * (the previous occurrence's, replayed or late) is told apart. Only a create keyed by the incident's own pager alias
 * and made for this occurrence counts: one under a templated alias or a storm's page lands on a key that holds no such
 * incident, and a late report of an earlier occurrence's create names another incident id. Nothing is decided.
 */
export function decidePagerAlertCreated(input: PagerAlertCreatedInput, state: RouterState | undefined): { events: Outputs['events']; state: RouterState | undefined } {
  const d = input.data;
  const s = isIncidentState(state) ? state : undefined;
  if (s === undefined || d.dryRun || d.alertId === undefined || s.incidentId !== d.incidentId || !s.paged || pagerAliasOf(s) !== input.alias) return { events: [], state };
  if (s.pagerAlertId === d.alertId) return { events: [], state };
  return { events: [], state: withChanges(s, { pagerAlertId: d.alertId }) };
}

export type PagerActionContext = Pick<DecisionContext, 'neighbours' | 'retentionMs'>;

/**
 * Decides an action taken on the incident's pager alert in the pager (its app, its web UI, its API): Acknowledge,
 * UnAcknowledge and Close acknowledge, reopen (of an acknowledged one) and resolve the incident, shown in Slack as the pager's; nothing is sent back to the pager, which
 * already knows. The pager's report of an action alertbus made itself (an ack clicked in Slack) finds the incident
 * already in that state and is recorded as suppressed, so the thread gets no second note; if the incident is not (a
 * later occurrence opened meanwhile), it is recorded as `own-action` and changes nothing either. At a pager alias a rule
 * templated, these actions are forwarded to the incidents linked to it (pager-links.ts) and decided there; a Close of a
 * storm's page (alias storm:…) to the open incidents paging through it only. Another action on a storm's page, or any
 * action on an alias alertbus has no paged incident for, changes nothing.
 */
export function decidePagerAction(
  input: AnyPagerAction,
  state: RouterState | undefined,
  rules: CompiledRules,
  ctx: PagerActionContext = {},
): { events: Outputs['events']; state: RouterState | undefined } {
  const out = new Outputs(input);
  const found = isIncidentState(state) ? state : undefined;
  const what = ACTIONS.get(input.data.action);
  const held = input.type === 'PagerActionReceived' ? pagerAliasStateOf(state) : undefined;
  // At a templated pager alias: on to each incident paged under it, which decides it there; a Close ends them all.
  if (what !== undefined && held !== undefined && input.type === 'PagerActionReceived') {
    if (isOwnPagerAction(input)) {
      suppress(out, input, 'own-action', refOf(undefined, rules), undefined);
      return { events: out.events, state };
    }
    forwardPagerAction(out, input, held.links);
    return { events: out.events, state: what === 'resolve' ? closedLinks(held, input) : state };
  }
  // A storm's grouped pager alert closed in the pager: on to each open incident paging through it, which it resolves
  // there, as a Close of a shared alert does. The storm's next incident then pages again; before, it only added notes
  // to the closed alert, and nobody was paged for the rest of the storm. One that joins while those resolves are still
  // being decided is paged by the last of them (stormPageAfterClose).
  const storm = input.type === 'PagerActionReceived' && what === 'resolve' ? stormOfKey(input.alias) : undefined;
  if (storm !== undefined && input.type === 'PagerActionReceived') {
    if (isOwnPagerAction(input)) suppress(out, input, 'own-action', refOf(undefined, rules), undefined);
    else {
      const members = groupedOpenMembers(storm, ctx, atOf(input, ctx));
      // The latest opening among them: a member that opened later was not reached (even one received before the Close,
      // whose partition was behind), and one received after the Close but decided before it was (stormPageAfterClose).
      const latest = members.reduce<string | undefined>((m, x) => (m === undefined || x.openedAt > m ? x.openedAt : m), undefined);
      forwardPagerAction(out, input, members, latest !== undefined ? { stormReachedUpTo: latest } : {});
    }
    if (out.events.length === 0) suppress(out, input, 'no-incident', refOf(undefined, rules), undefined);
    return { events: out.events, state };
  }
  // Only the incident whose own pager alert this is, or, forwarded from its storm's alert, an incident paging through
  // it: not one never paged. A forwarded action names the pager alias it came from, and the occurrence it is for.
  const pagerAlias = input.type === 'PagerActionReceived' ? input.alias : input.data.pagerAlias;
  const s = found && (found.paged ? pagerAliasOf(found) === pagerAlias : input.type === 'PagerActionForwarded' && pagesThroughStorm(found, pagerAlias)) ? found : undefined;
  if (what === undefined) suppress(out, input, 'unknown-action', refOf(found, rules), found);
  else if (s === undefined) suppress(out, input, 'no-incident', refOf(found, rules), found);
  else if (input.type === 'PagerActionForwarded' && input.data.incidentId !== s.incidentId) suppress(out, input, 'other-occurrence', s.rule, s);
  // A forward names its occurrence (checked above); the alert's creation time tells nothing of an incident that joined
  // a shared pager alert later.
  else if (input.type === 'PagerActionReceived' && earlierOccurrence(input, s)) suppress(out, input, 'other-occurrence', s.rule, s);
  else if (s.status === 'resolved') suppress(out, input, 'already-resolved', s.rule, s);
  else if (what === 'ack' && s.status === 'acknowledged') suppress(out, input, 'already-acknowledged', s.rule, s);
  else if (what === 'unack' && s.status === 'open') suppress(out, input, 'not-acknowledged', s.rule, s);
  // alertbus acted for what the incident already shows (or for an earlier occurrence, its close held back by a pager
  // outage until the alias fired again): its report must not be taken for a person's action on the open occurrence.
  else if (input.type === 'PagerActionReceived' && isOwnPagerAction(input)) suppress(out, input, 'own-action', s.rule, s);
  else if (what === 'ack') acknowledge(out, input, s, rules, ctx);
  else if (what === 'unack') unacknowledge(out, input, s, rules, ctx);
  else resolve(out, input, s, rules, ctx);
  return { events: out.events, state: s ? out.folded(s) : state };
}

/** The open incidents a storm gathered that page through its grouped alert only (one raised to a page of its own keeps it). */
function groupedOpenMembers(storm: { channel: string; id: string }, ctx: PagerActionContext, at: At): Array<{ alias: string; incidentId: string; openedAt: string }> {
  const out: Array<{ alias: string; incidentId: string; openedAt: string }> = [];
  for (const m of (ctx.neighbours ?? NO_NEIGHBOURS).stormMembers(storm.id, storm.channel, at).members) {
    if (m.storm?.id === storm.id && pagesThroughStorm(m, stormSummaryKey(m.storm.channel, m.storm.since)) && m.status !== 'resolved') {
      out.push({ alias: m.alias, incidentId: m.incidentId, openedAt: m.openedAt });
    }
  }
  return out;
}

/** Whether the incident pages through the storm's grouped alert `pagerAlias` only, with no page of its own. */
const pagesThroughStorm = (s: AliasState, pagerAlias: string): boolean =>
  !s.paged && s.storm?.pageGrouped === true && stormSummaryKey(s.storm.channel, s.storm.since) === pagerAlias;

function acknowledge(out: Outputs, input: AnyPagerAction, s: AliasState, rules: CompiledRules, ctx: PagerActionContext): void {
  const { user, provider } = input.data;
  out.add('IncidentAcknowledged', {
    ...incidentFacts(s, { inputId: input.id, rule: s.rule, reason: 'acknowledged', status: 'acknowledged' }),
    acknowledgedAt: input.recordedAt,
    // The pager names its user by username, which is both who they are to it and what people know them by.
    ...(user !== undefined ? { by: user, ...byNameOf(user) } : {}),
    provider,
  });
  const acked = out.folded(s) as AliasState;
  stormOnAcknowledge(out, s, acked, s.rule, ctx.neighbours ?? NO_NEIGHBOURS, atOf(input, ctx), user ?? PAGER_NAMES[provider]);
  reply(out, s, pagerAcknowledgedText(provider, user));
  if (s.slackChannel !== undefined) out.add('UpdateSlackMessage', { incidentId: s.incidentId, rule: s.rule, ...renderRoot(incidentView(acked), [], { historyUrl: rules.historyPublicUrl }) });
}

/** The pager escalates again, so Slack shows the incident open again, its buttons back, for whoever takes it now. */
function unacknowledge(out: Outputs, input: AnyPagerAction, s: AliasState, rules: CompiledRules, ctx: PagerActionContext): void {
  const { user, provider } = input.data;
  out.add('IncidentUnacknowledged', {
    ...incidentFacts(s, { inputId: input.id, rule: s.rule, reason: 'unacknowledged', status: 'open' }),
    unacknowledgedAt: input.recordedAt,
    ...(user !== undefined ? { by: user } : {}),
    provider,
  });
  const open = out.folded(s) as AliasState;
  stormOnUnacknowledge(out, s, open, s.rule, ctx.neighbours ?? NO_NEIGHBOURS, atOf(input, ctx));
  reply(out, s, pagerUnacknowledgedText(provider, user));
  if (s.slackChannel !== undefined) out.add('UpdateSlackMessage', { incidentId: s.incidentId, rule: s.rule, ...renderRoot(incidentView(open), [], { historyUrl: rules.historyPublicUrl }) });
}

function resolve(out: Outputs, input: AnyPagerAction, s: AliasState, rules: CompiledRules, ctx: PagerActionContext): void {
  const { user, provider } = input.data;
  out.add('IncidentResolved', {
    ...incidentFacts(s, { inputId: input.id, rule: s.rule, reason: 'resolved', status: 'resolved' }),
    resolvedAt: input.recordedAt,
    // The pager names its user by username, which is both who they are to it and what people know them by.
    ...(user !== undefined ? { by: user, ...byNameOf(user) } : {}),
    provider,
  });
  const resolved = out.folded(s) as AliasState;
  stormOnResolve(out, s, resolved, s.rule, ctx.neighbours ?? NO_NEIGHBOURS, atOf(input, ctx));
  // Resolved by a Close of its storm's alert (the forward carries the Close's time): members that joined the storm
  // while the Close's resolves were being decided may need that alert again.
  if (input.type === 'PagerActionForwarded' && pagesThroughStorm(s, input.data.pagerAlias)) {
    // Not reached by the Close: opened after every incident it was forwarded to (a forward written before that bound was
    // recorded: opened after the Close).
    const reachedUpTo = Date.parse(input.data.stormReachedUpTo ?? input.recordedAt);
    stormPageAfterClose(out, resolved, rules, ctx.neighbours ?? NO_NEIGHBOURS, atOf(input, ctx), reachedUpTo);
  }
  reply(out, s, pagerResolvedText(provider, user, s.title));
  if (s.slackChannel !== undefined) out.add('UpdateSlackMessage', { incidentId: s.incidentId, rule: s.rule, ...renderRoot(incidentView(resolved), [], { historyUrl: rules.historyPublicUrl }) });
}
