import type { AliasState, DecisionReason, Envelope, RuleRef } from '@alertbus/schemas';
import { evolve, isIncidentEvent } from '../core/evolve';
import { stormOnAcknowledge, stormOnResolve } from '../core/alerts';
import type { DecisionContext } from '../core/context';
import { NO_NEIGHBOURS } from '../core/neighbours';
import { Outputs } from '../core/outputs';
import { BUTTON_ACTION_IDS, incidentView, renderRoot } from '../core/render';
import type { CompiledRules } from '../rules/types';
import { isIncidentState, type RouterState } from '../state';
import { acknowledgedText, alreadyText, NO_INCIDENT_TEXT, OTHER_OCCURRENCE_TEXT, pagerActionNote, resolvedByText, stormThreadText } from './texts';
import { STORM_KEY_PREFIX } from '../core/storm';
import { incidentFacts } from '../core/incident-facts';
import { closeOwnPage } from '../core/pager-links';
import { authorize, refusalText } from './authorize';
import { byNameOf } from '../core/person';

type ActionInput = Envelope<'SlackActionReceived'>;

/** What each of alertbus's buttons asks for (their ids: BUTTON_ACTION_IDS, on the root message). */
const ACTIONS: ReadonlyMap<string, 'ack' | 'resolve'> = new Map([
  [BUTTON_ACTION_IDS.ack, 'ack'],
  [BUTTON_ACTION_IDS.resolve, 'resolve'],
]);

/** How the router marks a SlackActionReceived it made from `ack` / `resolve` typed in a thread. */
export const TEXT_COMMAND_ACTION_TYPE = 'text-command';

const folded = (out: Outputs, state: AliasState) => out.events.filter(isIncidentEvent).reduce(evolve, state)!;
const pagerAliasOf = (s: AliasState) => s.pagerAlias ?? s.alias;

/** The incident's own rule: no rule matches a click, so the decision points at why the incident exists. */
const refOf = (s: AliasState | undefined, rules: CompiledRules): RuleRef => s?.rule ?? { path: 'defaults', rulesVersion: rules.version };

/** The action's time (its recordedAt, never the clock) and the retention, as storm members are counted. */
const atOf = (input: ActionInput, ctx: ActionContext) => ({ atMs: Date.parse(input.recordedAt), ...(ctx.retentionMs !== undefined ? { retentionMs: ctx.retentionMs } : {}) });

/** The person who acted, as recorded in `by` (their Slack user id) and as the pager shows them (their name when known). */
function actor(input: ActionInput): { by: string; name: string } {
  const u = input.data.user;
  return { by: u.id, name: u.name ?? u.id };
}

/** A reply in the incident's thread: the root alertbus posted (alerts), or the request's own thread (Slack incidents). */
function reply(out: Outputs, s: AliasState, rule: RuleRef, text: string): void {
  if (s.slackChannel !== undefined) {
    out.add('PostSlackMessage', { incidentId: s.incidentId, rule, channel: s.slackChannel, purpose: 'reply', text });
  } else if (s.slackRequest) {
    out.add('PostSlackReply', { incidentId: s.incidentId, rule, channel: s.slackRequest.channel, threadTs: s.slackRequest.threadTs, text });
  }
}

function suppress(out: Outputs, input: ActionInput, reason: DecisionReason, rule: RuleRef, s: AliasState | undefined, answer?: string): void {
  out.add('EventSuppressed', {
    inputId: input.id,
    inputType: input.type,
    reason,
    rule,
    ...(s ? { incidentId: s.incidentId, title: s.title } : {}),
  });
  // A click on a stale button says nothing (the root message shows the state); someone who typed a command gets an answer.
  if (answer && s && input.data.actionType === TEXT_COMMAND_ACTION_TYPE) reply(out, s, rule, answer);
}

function acknowledge(out: Outputs, input: ActionInput, s: AliasState, rules: CompiledRules, ctx: ActionContext): void {
  const { by, name } = actor(input);
  out.add('IncidentAcknowledged', {
    ...incidentFacts(s, { inputId: input.id, rule: s.rule, reason: 'acknowledged', status: 'acknowledged' }),
    acknowledgedAt: input.recordedAt,
    by,
    ...byNameOf(input.data.user.name),
  });
  const acked = folded(out, s);
  // A storm member (`/alertbus ack <alias>`): its line in the summary, and a note on the storm's page.
  stormOnAcknowledge(out, s, acked, s.rule, ctx.neighbours ?? NO_NEIGHBOURS, atOf(input, ctx), name);
  reply(out, s, s.rule, acknowledgedText(by));
  if (s.slackChannel !== undefined) out.add('UpdateSlackMessage', { incidentId: s.incidentId, rule: s.rule, ...renderRoot(incidentView(acked), [], { historyUrl: rules.historyPublicUrl }) });
  if (s.paged) {
    out.add('AcknowledgePagerAlert', { incidentId: s.incidentId, rule: s.rule, note: pagerActionNote('ack', name), user: name }, pagerAliasOf(s));
  }
}

function resolve(out: Outputs, input: ActionInput, s: AliasState, rules: CompiledRules, ctx: ActionContext): void {
  const { by, name } = actor(input);
  out.add('IncidentResolved', {
    ...incidentFacts(s, { inputId: input.id, rule: s.rule, reason: 'resolved', status: 'resolved' }),
    resolvedAt: input.recordedAt,
    by,
    ...byNameOf(input.data.user.name),
  });
  const resolved = folded(out, s);
  // A storm member (`/alertbus resolve <alias>`: it has no buttons): its storm as when the source resolves it.
  stormOnResolve(out, s, resolved, s.rule, ctx.neighbours ?? NO_NEIGHBOURS, atOf(input, ctx));
  reply(out, s, s.rule, resolvedByText(by, s.title));
  if (s.slackChannel !== undefined) out.add('UpdateSlackMessage', { incidentId: s.incidentId, rule: s.rule, ...renderRoot(incidentView(resolved), [], { historyUrl: rules.historyPublicUrl }) });
  // Its pager alert, or, shared with other incidents under a templated alias, closed by the last of them (a note before).
  if (s.paged) closeOwnPage(out, s, s.rule, pagerActionNote('resolve', name), name);
}

/**
 * The role check, before anything else can happen to the incident: a refusal changes nothing, is recorded in the
 * incident's timeline with who and why, and is told to that person alone. True when refused.
 */
function refused(out: Outputs, input: ActionInput, s: AliasState, what: 'ack' | 'resolve', rules: CompiledRules): boolean {
  const a = input.data;
  const groups = a.userGroups;
  const verdict = authorize(rules, { userId: a.user.id, ...(groups ? { groups } : {}) }, what);
  if (verdict.allowed) return false;
  out.add('EventSuppressed', {
    inputId: input.id,
    inputType: input.type,
    reason: 'not-permitted',
    rule: s.rule,
    incidentId: s.incidentId,
    title: s.title,
    refused: { action: what, user: a.user.id, role: verdict.role, needed: verdict.needed, reason: verdict.reason, ...(groups ? { groups: [...groups] } : {}) },
  });
  // Typed in the thread: shown there; a button: shown in the channel (in the root's thread when the root is a reply).
  const threadTs = a.actionType === TEXT_COMMAND_ACTION_TYPE ? a.messageTs : a.threadTs;
  out.add('PostSlackEphemeral', {
    incidentId: s.incidentId,
    rule: s.rule,
    channel: a.channel,
    user: a.user.id,
    ...(threadTs ? { threadTs } : {}),
    text: refusalText(what === 'ack' ? 'acknowledge this incident' : 'resolve this incident', verdict),
    // A click's own way back to the clicker: it reaches them where chat.postEphemeral cannot (not a channel member).
    ...(a.responseUrl && a.responseUrl.length <= 2000 && a.actionType !== TEXT_COMMAND_ACTION_TYPE ? { responseUrl: a.responseUrl } : {}),
  });
  return true;
}

/**
 * Decides a click on Acknowledge / Resolve (or the same typed as `ack` / `resolve` in the thread). The
 * alias is the incident's, from the button's value, so the click meets the incident's state; the
 * incident id in the value says which occurrence the button was for, and a button of an earlier one does
 * nothing to a newer one.
 */
/** What a person's action looks at besides its own key: the other incidents (a storm member's storm) and the retention. */
export type ActionContext = Pick<DecisionContext, 'neighbours' | 'retentionMs'>;

export function decideSlackAction(
  input: ActionInput,
  state: RouterState | undefined,
  rules: CompiledRules,
  ctx: ActionContext = {},
): { events: Outputs['events']; state: RouterState | undefined } {
  const a = input.data;
  const out = new Outputs(input);
  const s = isIncidentState(state) ? state : undefined;
  const what = ACTIONS.get(a.actionId);
  if (what === undefined) suppress(out, input, 'unknown-action', refOf(s, rules), s);
  else if (s === undefined) {
    suppress(out, input, 'no-incident', refOf(s, rules), s);
    // Typed in a thread linked to no incident here (a storm summary's, or one whose incident has expired): said so.
    if (a.actionType === TEXT_COMMAND_ACTION_TYPE && a.messageTs) {
      const text = input.alias.startsWith(STORM_KEY_PREFIX) ? stormThreadText(rules.slashCommand) : NO_INCIDENT_TEXT;
      out.add('PostSlackReply', { rule: refOf(s, rules), channel: a.channel, threadTs: a.messageTs, text });
    }
  }
  else if (refused(out, input, s, what, rules)) return { events: out.events, state: folded(out, s) };
  else if (a.incidentId !== undefined && a.incidentId !== s.incidentId) suppress(out, input, 'other-occurrence', s.rule, s, OTHER_OCCURRENCE_TEXT);
  else if (s.status === 'resolved') suppress(out, input, 'already-resolved', s.rule, s, alreadyText('resolved'));
  else if (what === 'ack' && s.status === 'acknowledged') suppress(out, input, 'already-acknowledged', s.rule, s, alreadyText('acknowledged'));
  else if (what === 'ack') acknowledge(out, input, s, rules, ctx);
  else resolve(out, input, s, rules, ctx);
  return { events: out.events, state: s ? folded(out, s) : state };
}
