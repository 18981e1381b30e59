import { deriveId, type AliasState, type AnyEnvelope, type DecisionReason, type Envelope, type RuleRef } from '@alertbus/schemas';
import { evolve, isIncidentEvent } from '../core/evolve';
import { Outputs } from '../core/outputs';
import { pagerDetails, pagerMessage, pagerTags } from '../core/pager';
import { withoutCredentials } from '../core/shown-text';
import type { CompiledRules } from '../rules/types';
import { helpText, parseCommand, stripLeadingMentions, type SlackCommand } from './commands';
import { authorize, authorizeRole, refusalText, type Authorization } from './authorize';
import { isSingleWord, matchHandler, notUnderstoodHelp, NOT_UNDERSTOOD_TEXT, renderReply } from './custom-commands';
import type { CompiledCommandHandler } from '../rules/types';
import { routableMessage, routeSlackMessage, type SlackRoute } from './route';
import { isIncidentState, type RouterState } from '../state';
import { THREAD_KEY_PREFIX, threadKey } from './thread-key';
import { decideTextCommand } from './threads';
import {
  DELETED_NOTE,
  editedNote,
  joinedText,
  NO_SCHEDULE_TEXT,
  notInThreadText,
  onCallAcknowledgement,
  otherIncidentText,
  requestDescription,
  requestTitle,
  threadNote,
} from './texts';
import { incidentFacts } from '../core/incident-facts';
import { incidentIdOf } from '../core/incident-id';
import { ROUTER_SOURCE } from '../core/outputs';
import { BUTTON_ACTION_IDS } from '../core/render';
import { decideSlackAction, type ActionContext } from './actions';
import { namedIncidentCommand, namedIncidentId, type NamedIncidentCommand } from './mention-key';
import { actionAnswer } from './slash-decide';

type MessageInput = Envelope<'SlackMessageReceived'>;

/** Severity of a Slack request: people say how bad it is in words, not in a field. */
export const SLACK_SEVERITY = 'unknown';

interface Ctx {
  input: MessageInput;
  out: Outputs;
  /** Where to answer: the message's thread, or the thread it starts. */
  thread: { channel: string; threadTs: string };
}

function suppress(c: Ctx, reason: DecisionReason, rule: RuleRef, incident?: AliasState): void {
  c.out.add('EventSuppressed', {
    inputId: c.input.id,
    inputType: c.input.type,
    reason,
    rule,
    ...(incident ? { incidentId: incident.incidentId, title: incident.title } : { title: requestTitle(c.input.data.text) }),
  });
}

const folded = (out: Outputs, state: AliasState | undefined) => out.events.filter(isIncidentEvent).reduce(evolve, state);

const pagerAliasOf = (s: AliasState) => s.pagerAlias ?? s.alias;

/** The on-call reply, or why there is none: the rule turned it off (nothing said), or no schedule is known (say so). */
function replyWithOnCall(c: Ctx, r: SlackRoute, schedule: string | undefined, incidentId?: string): void {
  const m = c.input.data;
  if (schedule) {
    c.out.add('ReplyWithOnCall', {
      ...(incidentId ? { incidentId } : {}),
      rule: r.rule,
      ...c.thread,
      schedule,
      ...(m.user ? { requester: m.user } : {}),
      acknowledgement: onCallAcknowledgement(schedule),
      ...(r.replyTemplate ? { replyTemplate: r.replyTemplate } : {}),
    });
  } else if (!r.oncallDisabled) {
    c.out.add('PostSlackReply', { ...(incidentId ? { incidentId } : {}), rule: r.rule, ...c.thread, text: NO_SCHEDULE_TEXT });
  }
}

/** Alias of a Slack message (`slack:{team}:{channel}:{ts}`), as ingest keys it: a request's thread root names its incident. */
const slackAlias = (m: MessageInput['data'], ts: string) => `slack:${m.team}:${m.channel}:${ts}`;

/** A command: answered in the thread, no incident; the state remembers the message so redeliveries stay quiet. */
function command(c: Ctx, r: SlackRoute, cmd: Exclude<SlackCommand, { name: 'request' }>, rules: CompiledRules): RouterState {
  const { input, out, thread } = c;
  const m = input.data;
  const remembered: RouterState = { kind: 'slack-command', key: input.alias, command: cmd.name, inputId: input.id, at: input.recordedAt };
  if (cmd.name === 'cache-clear') {
    const a = authorize(rules, actorOf(m), 'cache-clear');
    if (!a.allowed) {
      refuse(c, r, a, 'cache-clear', 'clear the on-call cache');
      return remembered;
    }
  }
  suppress(c, 'command', r.rule);
  switch (cmd.name) {
    case 'help':
      out.add('PostSlackReply', { rule: r.rule, ...thread, text: helpText(r.oncall, rules.commands) });
      break;
    case 'oncall':
      // Asked for by name: answered even where the rule turned the automatic reply off.
      replyWithOnCall(c, { ...r, oncallDisabled: false }, cmd.schedule ?? r.schedule);
      break;
    case 'cache-clear':
      out.add('ClearOnCallCache', {
        rule: r.rule,
        ...thread,
        requestedBy: m.user ?? m.botId ?? 'unknown',
        ...(cmd.schedule ? { schedule: cmd.schedule } : {}),
      });
      break;
    case 'ack':
    case 'resolve':
      if (cmd.target !== undefined && !(m.threadTs !== undefined && cmd.target === slackAlias(m, m.threadTs))) {
        // Keyed by its own ts, this record cannot see the incident it names: ingest keys such a mention by that alias
        // (see namedIncidentCommand) and actOnNamed() acts; one keyed here (written before, or naming an incident id
        // before ingest looked ids up) still only says how, so a replay decides it as it was decided.
        out.add('PostSlackReply', { rule: r.rule, ...thread, text: otherIncidentText(cmd.name, rules.slashCommand) });
      } else if (m.threadTs === undefined) {
        out.add('PostSlackReply', { rule: r.rule, ...thread, text: notInThreadText(cmd.name) });
      } else {
        // The thread's record (on another partition, maybe another instance) knows its incident: send it there.
        out.add(
          'SlackTextCommandReceived',
          {
            command: cmd.name,
            team: m.team,
            channel: m.channel,
            threadTs: m.threadTs,
            messageTs: m.ts,
            messageAlias: input.alias,
            user: m.user ?? m.botId ?? 'unknown',
            ...(m.userName ? { userName: m.userName } : {}),
            ...(m.userGroups ? { userGroups: m.userGroups } : {}),
          },
          threadKey(m.channel, m.threadTs),
        );
      }
      break;
  }
  return remembered;
}

/** Who wrote the message, as `permissions:` sees them: their id and the user groups ingest found. */
function actorOf(m: MessageInput['data']): { userId: string; groups?: readonly string[] } {
  return { userId: m.user ?? m.botId ?? 'unknown', ...(m.userGroups ? { groups: m.userGroups } : {}) };
}

/** A refused action: nothing happens; the refusal is recorded (who, why) and told to that person alone. */
function refuse(c: Ctx, r: SlackRoute, a: Extract<Authorization, { allowed: false }>, action: 'cache-clear' | 'command', what: string): void {
  const m = c.input.data;
  const actor = actorOf(m);
  c.out.add('EventSuppressed', {
    inputId: c.input.id,
    inputType: c.input.type,
    reason: 'not-permitted',
    rule: r.rule,
    title: requestTitle(m.text),
    refused: { action, user: actor.userId, role: a.role, needed: a.needed, reason: a.reason, ...(actor.groups ? { groups: [...actor.groups] } : {}) },
  });
  if (m.user) c.out.add('PostSlackEphemeral', { rule: r.rule, channel: m.channel, user: m.user, threadTs: c.thread.threadTs, text: refusalText(what, a) });
}

/** One of the rules file's own commands: a reply, a webhook call or a request on commands.custom.v1. */
function custom(c: Ctx, r: SlackRoute, rules: CompiledRules, handler: CompiledCommandHandler, groups: Readonly<Record<string, string>>, text: string): RouterState {
  const { input, out, thread } = c;
  const m = input.data;
  const rule = { path: handler.path, ...(handler.name ? { name: handler.name } : {}), rulesVersion: rules.version };
  const remembered: RouterState = { kind: 'slack-command', key: input.alias, command: handler.name ?? handler.path, inputId: input.id, at: input.recordedAt };
  if (handler.role) {
    const a = authorizeRole(rules, actorOf(m), handler.role, `the command ${handler.name ?? handler.path}`);
    if (!a.allowed) {
      refuse(c, { ...r, rule }, a, 'command', `use \`${handler.name ?? handler.pattern.source}\``);
      return remembered;
    }
  }
  suppress(c, 'command', rule);
  const user = m.user ?? m.botId ?? 'unknown';
  const request = {
    text,
    groups: { ...groups },
    user,
    ...(m.userGroups ? { userGroups: [...m.userGroups] } : {}),
    team: m.team,
    channel: m.channel,
    threadTs: thread.threadTs,
    messageTs: m.ts,
  };
  switch (handler.action.kind) {
    case 'reply':
      out.add('PostSlackReply', { rule, ...thread, text: renderReply(handler.action.template, groups, m.user) });
      break;
    case 'webhook':
      out.add('CallCommandWebhook', {
        rule,
        ...thread,
        url: handler.action.url,
        timeoutMs: handler.action.timeoutMs,
        request: { command: handler.name ?? handler.path, ...request },
      });
      break;
    case 'command':
      out.add('CustomCommandRequested', { name: handler.action.name, rule, ...request });
      break;
  }
  return remembered;
}

/** A message to the app that no command matched: as `commands.default` says; a single unknown word is never a page. */
function unmatched(c: Ctx, r: SlackRoute, rules: CompiledRules, text: string): RouterState | undefined {
  const { input, out, thread } = c;
  const remembered: RouterState = { kind: 'slack-command', key: input.alias, command: 'not-understood', inputId: input.id, at: input.recordedAt };
  switch (rules.commands.default) {
    case 'help':
      suppress(c, 'not-understood', r.rule);
      out.add('PostSlackReply', { rule: r.rule, ...thread, text: notUnderstoodHelp(helpText(r.oncall, rules.commands)) });
      return remembered;
    case 'ignore':
      suppress(c, 'not-understood', r.rule);
      return remembered;
    case 'oncall':
      if (!isSingleWord(text)) return request(c, r);
      suppress(c, 'not-understood', r.rule);
      out.add('PostSlackReply', { rule: r.rule, ...thread, text: NOT_UNDERSTOOD_TEXT });
      return remembered;
  }
}

/** Remembered at a threaded request's own key while its thread's root is asked whether it is a request already. */
const THREAD_REQUEST = 'thread-request';

/**
 * A request: in the thread of a request, it belongs to that request, whose state is at the root's key, not this
 * message's. So it travels there first (this key remembers it, so Slack's redeliveries stay quiet) and comes back
 * to open an incident of its own only when the root is no open request.
 */
function request(c: Ctx, r: SlackRoute): RouterState {
  const m = c.input.data;
  // Back from the root (or forwarded once already): open here, never travel again.
  if (m.threadTs === undefined || m.threadTs === m.ts || c.input.source === ROUTER_SOURCE) return open(c, r);
  c.out.add('SlackMessageReceived', m, slackAlias(m, m.threadTs));
  return { kind: 'slack-command', key: c.input.alias, command: THREAD_REQUEST, inputId: c.input.id, at: c.input.recordedAt };
}

/**
 * At the thread root's key: an open request there takes the message as a note on it (and on its pager alert), with no
 * second page; anything else (no request, a resolved one, an alert thread's root) sends it back to open its own.
 */
function joinThread(c: Ctx, state: RouterState | undefined): RouterState | undefined {
  const m = c.input.data;
  const s = isIncidentState(state) ? state : undefined;
  if (!s?.slackRequest || s.slackRequest.ts !== m.threadTs || s.slackRequest.deleted || s.status === 'resolved') {
    c.out.add('SlackMessageReceived', m, slackAlias(m, m.ts));
    return state;
  }
  const note = { ts: m.ts, text: m.text, ...(m.user ? { user: m.user } : {}) };
  c.out.add('IncidentUpdated', { ...incidentFacts(s, { inputId: c.input.id, rule: s.rule, reason: 'updated' }), changes: { threadMessage: note } });
  if (s.paged) c.out.add('AddPagerNote', { incidentId: s.incidentId, rule: s.rule, note: threadNote(m.user ?? m.botId, m.text) }, pagerAliasOf(s));
  c.out.add('PostSlackReply', { incidentId: s.incidentId, rule: s.rule, channel: m.channel, threadTs: m.threadTs!, text: joinedText(s.paged) });
  return folded(c.out, s);
}

/** A request for help: a Slack incident, the on-call reply and/or a pager alert, as the rule says. */
function open(c: Ctx, r: SlackRoute): AliasState {
  const { input, out, thread } = c;
  const m = input.data;
  const incidentId = incidentIdOf(input.alias, 1, input.id);
  const title = requestTitle(m.text);
  const requester = m.user ?? m.botId;
  const description = requestDescription(m);
  out.add('IncidentOpened', {
    incidentId,
    occurrence: 1,
    title,
    severity: SLACK_SEVERITY,
    source: 'slack',
    status: 'open',
    count: 1,
    reason: 'first-notification',
    rule: r.rule,
    inputId: input.id,
    labels: {
      channel: m.channel,
      channel_type: m.channelType,
      kind: m.kind,
      team: m.team,
      ...(requester ? { user: requester } : {}),
      ...(m.userName ? { user_name: m.userName } : {}),
    },
    description,
    links: m.permalink ? [{ title: 'Slack message', url: m.permalink }] : [],
    openedAt: input.recordedAt,
    slackRequest: { team: m.team, ...thread, ts: m.ts, text: m.text, ...(m.user ? { user: m.user } : {}) },
    ...(r.pager ? { pager: { priority: r.pager.priority } } : {}),
  });
  replyWithOnCall(c, r, r.oncall, incidentId);
  if (r.pager) {
    out.add('CreatePagerAlert', {
      incidentId,
      rule: r.rule,
      message: pagerMessage(title),
      // The incident keeps what was asked as written; the page shows it without credentials, redacted before it is
      // cut (a `[redacted]` may be longer than what it replaced), so who asked and the link stay at its end.
      description: requestDescription(m, withoutCredentials),
      priority: r.pager.priority,
      tags: pagerTags(r.pager.tags),
      responders: [...r.pager.responders],
      details: pagerDetails(
        {},
        {
          alertbus_alias: input.alias,
          alertbus_incident: incidentId,
          alertbus_rule: r.rule.name ?? r.rule.path,
          slack_channel: m.channel,
          ...(requester ? { slack_user: requester } : {}),
          ...(m.userName ? { slack_user_name: m.userName } : {}),
          ...(m.permalink ? { slack_message: m.permalink } : {}),
        },
      ),
      source: 'alertbus/slack',
    });
  }
  // `ack` / `resolve` typed in this thread later find the incident through the thread's record.
  out.add('SlackThreadLinked', { ...thread, alias: input.alias, incidentId }, threadKey(thread.channel, thread.threadTs));
  return folded(out, undefined)!;
}

/** An edit changes the incident's title and tells the pager; the same text again (a redelivery, a link preview) changes nothing. */
function edit(c: Ctx, r: SlackRoute, s: RouterState | undefined): RouterState | undefined {
  const m = c.input.data;
  if (!isIncidentState(s) || !s.slackRequest) {
    suppress(c, 'no-incident', r.rule);
    return s;
  }
  if (s.slackRequest.deleted || m.text === s.slackRequest.text || m.previousText === m.text) {
    suppress(c, 'unchanged', s.rule, s);
    return folded(c.out, s);
  }
  c.out.add('IncidentUpdated', {
    ...incidentFacts(s, { inputId: c.input.id, rule: s.rule, reason: 'updated', title: requestTitle(m.text) }),
    changes: { text: m.text, ...(m.previousText !== undefined ? { previousText: m.previousText } : {}) },
  });
  if (s.paged && s.status !== 'resolved') {
    c.out.add('AddPagerNote', { incidentId: s.incidentId, rule: s.rule, note: editedNote(m.user, m.text) }, pagerAliasOf(s));
  }
  return folded(c.out, s);
}

/** A deleted request stays an incident (someone may already be on it); the deletion is recorded and the pager told. */
function remove(c: Ctx, r: SlackRoute, s: RouterState | undefined): RouterState | undefined {
  if (!isIncidentState(s) || !s.slackRequest) {
    suppress(c, 'no-incident', r.rule);
    return s;
  }
  if (s.slackRequest.deleted) {
    suppress(c, 'duplicate', s.rule, s);
    return folded(c.out, s);
  }
  c.out.add('IncidentUpdated', {
    ...incidentFacts(s, { inputId: c.input.id, rule: s.rule, reason: 'updated' }),
    changes: { deleted: true },
  });
  if (s.paged && s.status !== 'resolved') {
    c.out.add('AddPagerNote', { incidentId: s.incidentId, rule: s.rule, note: DELETED_NOTE }, pagerAliasOf(s));
  }
  return folded(c.out, s);
}

/**
 * An answer that only the person who wrote sees, where they wrote it (their thread, else the channel), as the slash
 * command answers a refusal; a message with no user (an allowed bot) gets it as a reply in its thread.
 */
function tellWriter(c: Ctx, rule: RuleRef, text: string, incidentId?: string): void {
  const m = c.input.data;
  const about = incidentId ? { incidentId } : {};
  if (m.user) c.out.add('PostSlackEphemeral', { ...about, rule, channel: m.channel, user: m.user, ...(m.threadTs ? { threadTs: m.threadTs } : {}), text });
  else c.out.add('PostSlackReply', { ...about, rule, ...c.thread, text });
}

/**
 * `ack|resolve <incident id>` whose alias ingest could not find (no such id, or the history API not answering): keyed by
 * the message, it acts on nothing; why is told to the writer alone, as the slash command tells it.
 */
function unfound(c: Ctx, r: SlackRoute, rules: CompiledRules, byId: { command: 'ack' | 'resolve'; incidentId: string }, problem: string): RouterState {
  const { input } = c;
  suppress(c, 'no-incident', r.rule);
  tellWriter(c, r.rule, actionAnswer(byId.command, byId.incidentId, [], problem, rules.slashCommand));
  return { kind: 'slack-command', key: input.alias, command: byId.command, inputId: input.id, at: input.recordedAt };
}

/**
 * `ack|resolve <alias>` by mention or DM, keyed by that alias: what `/alertbus ack <alias>` does, through the path a
 * click on the incident's button takes (permissions, the note in its thread, the pager). What it did is a reply to the
 * mention; a refusal (unknown alias, already so, not permitted) is told to the writer alone. The alias's state is
 * never replaced by the message's: it is the incident's (or nothing). By incident id, it acts on that occurrence only
 * (a newer one at the alias is told of, as the slash command tells it), and the answers name the id as written.
 */
function actOnNamed(c: Ctx, r: SlackRoute, rules: CompiledRules, named: NamedIncidentCommand, state: RouterState | undefined, ctx: ActionContext): RouterState | undefined {
  const { input, out } = c;
  const m = input.data;
  const incident = isIncidentState(state) ? state : undefined;
  const unchanged = () => (incident ? folded(out, incident) : state);
  const shown = named.incidentId ?? named.alias;
  // Slack's redelivery, or the DM twin of a mention (ingest derives the id from the message): taken once, also when
  // it went by its thread's record (viaThread) and what acted was derived from it there.
  if (incident && (incident.lastInputId === input.id || viaThreadIds(input.id).includes(incident.lastInputId))) {
    suppress(c, 'duplicate', incident.rule, incident);
    return unchanged();
  }
  // Written before this occurrence opened (a redelivery after the alert fired again): it named the one before, which
  // is over. Acting would reuse the ids of what it did then, which history and the sinks drop. Nothing is said.
  if (incident && writtenBefore(m.ts, incident.openedAt)) {
    suppress(c, 'other-occurrence', incident.rule, incident);
    return unchanged();
  }
  if (r.drop) {
    suppress(c, 'dropped-by-rule', r.rule);
    return unchanged();
  }
  if (m.botId !== undefined && !r.allowBots) {
    suppress(c, 'bot-message', r.rule);
    return unchanged();
  }
  const text = stripLeadingMentions(m.text);
  const own = matchHandler(rules, text);
  if (own) {
    // The rules file's own command wins, as for any mention; what it remembers stays off the incident's key.
    custom(c, r, rules, own.handler, own.groups, text);
    return unchanged();
  }
  if (!incident) {
    suppress(c, 'no-incident', r.rule);
    tellWriter(c, r.rule, actionAnswer(named.command, shown, [], undefined, rules.slashCommand));
    return state;
  }
  // Written in a thread, about an incident with a thread of its own: only the thread's record knows whether it is that
  // thread (the state has the channel, as the rules name it, not the root's ts). It goes there (viaThread) and comes
  // back here, from the router, unless it is the incident's own thread.
  if (input.source !== ROUTER_SOURCE && m.threadTs !== undefined && !incident.slackRequest && incident.slackChannel !== undefined) {
    out.add('SlackMessageReceived', m, threadKey(m.channel, m.threadTs));
    return unchanged();
  }
  const click: Envelope<'SlackActionReceived'> = {
    ...input,
    type: 'SlackActionReceived',
    data: {
      actionId: BUTTON_ACTION_IDS[named.command],
      actionType: MENTION_ACTION_TYPE,
      // By id: the occurrence named, so an earlier one's id does nothing to a newer one (other-occurrence).
      ...(named.incidentId ? { incidentId: named.incidentId } : {}),
      user: { id: m.user ?? m.botId ?? 'unknown', ...(m.userName ? { name: m.userName } : {}) },
      ...(m.userGroups ? { userGroups: m.userGroups } : {}),
      team: m.team,
      channel: m.channel,
      messageTs: m.ts,
      // Where a refusal of permission is shown: the writer's thread, else the channel.
      ...(m.threadTs ? { threadTs: m.threadTs } : {}),
      raw: { mention: m.kind, messageTs: m.ts },
    },
  };
  const decided = decideSlackAction(click, incident, rules, ctx);
  // The button path's events are this input's own: same ids, same cause.
  out.events.push(...decided.events.map((e) => (e.type === 'EventSuppressed' ? ({ ...e, data: { ...e.data, inputType: input.type } } as AnyEnvelope) : e)));
  // A refusal of permission was told to the writer by the button path already.
  const refusedHere = decided.events.some((e) => e.type === 'EventSuppressed' && e.data.reason === 'not-permitted');
  if (!refusedHere) {
    const said = actionAnswer(named.command, shown, decided.events, undefined, rules.slashCommand);
    const acted = decided.events.some((e) => e.type === 'IncidentAcknowledged' || e.type === 'IncidentResolved');
    // In a Slack request's own thread the note the button path posts there is the answer: said once, as a plain `ack`.
    const ownThread = incident.slackRequest !== undefined && incident.slackRequest.channel === m.channel && incident.slackRequest.threadTs === m.threadTs;
    if (acted && ownThread) {
      // Nothing more.
    } else if (acted) out.add('PostSlackReply', { incidentId: incident.incidentId, rule: incident.rule, ...c.thread, text: said });
    else tellWriter(c, incident.rule, said, incident.incidentId);
  }
  return decided.state;
}

/**
 * A mention acting by name, at the record of the thread it was written in (key slack-thread:{channel}:{ts}): in the
 * named incident's own thread it is that thread's `ack` / `resolve` (decideTextCommand: one note there, as a plain
 * `ack` typed in it gives); in any other thread it goes back to the incident's key to act and answer in its thread.
 */
function viaThread(c: Ctx, state: RouterState | undefined, rules: CompiledRules): RouterState | undefined {
  const m = c.input.data;
  const named = namedIncidentCommand(m);
  const thread = state !== undefined && !isIncidentState(state) && state.kind === 'slack-thread' ? state : undefined;
  if (named === undefined || m.threadTs === undefined) return state;
  if (thread?.alias !== named.alias) {
    c.out.add('SlackMessageReceived', m, named.alias);
    return state;
  }
  const typed: Envelope<'SlackTextCommandReceived'> = {
    ...c.input,
    type: 'SlackTextCommandReceived',
    data: {
      command: named.command,
      team: m.team,
      channel: m.channel,
      threadTs: m.threadTs,
      messageTs: m.ts,
      messageAlias: slackAlias(m, m.ts),
      user: m.user ?? m.botId ?? 'unknown',
      ...(m.userName ? { userName: m.userName } : {}),
      ...(m.userGroups ? { userGroups: m.userGroups } : {}),
    },
  };
  c.out.events.push(...decideTextCommand(typed, state, rules).events);
  return state;
}

/** What a mention that went by its thread's record (viaThread) left as an incident's lastInputId: derived from its id. */
function viaThreadIds(inputId: string): string[] {
  const forwarded = deriveId(inputId, 'SlackMessageReceived', 0);
  return [deriveId(forwarded, 'SlackMessageReceived', 0), deriveId(forwarded, 'SlackActionReceived', 0)];
}

/**
 * Whether a Slack message (its ts: seconds since the epoch, Slack's time of writing it) was written before `openedAt`.
 * Both come from the records, never the clock, so a replay decides the same.
 */
export function writtenBefore(ts: string, openedAt: string): boolean {
  const [seconds = '', fraction = ''] = ts.split('.');
  const ms = Number(seconds) * 1000 + Number(`${fraction}000`.slice(0, 3));
  const opened = Date.parse(openedAt);
  return Number.isFinite(ms) && Number.isFinite(opened) && ms < opened;
}

/** How the router marks the SlackActionReceived it decides for `ack|resolve <alias>` by mention (never written to Kafka). */
export const MENTION_ACTION_TYPE = 'mention-command';

/**
 * Decides what a Slack message means. The alias is the message's own (`slack:{team}:{channel}:{ts}`), so
 * every delivery of one message — Slack's retries, the same message under another event_id, the
 * `message` twin of an `app_mention` — meets the state the first one left: one reply, one page at most.
 * Edits and deletes carry the original ts and so reach the same state.
 */
export function decideSlackMessage(
  input: MessageInput,
  state: RouterState | undefined,
  rules: CompiledRules,
  ctx: ActionContext = {},
): { events: Outputs['events']; state: RouterState | undefined } {
  const m = input.data;
  const out = new Outputs(input);
  const c: Ctx = { input, out, thread: { channel: m.channel, threadTs: m.threadTs ?? m.ts } };
  const r = routeSlackMessage(rules, routableMessage(m, stripLeadingMentions(m.text), input.alias));
  const incident = isIncidentState(state) ? state : undefined;
  // A threaded request on its way to its thread's root, or back from it (see request()).
  if (input.source === ROUTER_SOURCE && m.kind !== 'edit' && m.kind !== 'delete') {
    if (input.alias.startsWith(THREAD_KEY_PREFIX)) return { events: out.events, state: viaThread(c, state, rules) };
    // Back from its thread's record, which is not the named incident's thread: acted on here.
    const back = namedIncidentCommand(m);
    if (back !== undefined && input.alias === back.alias) return { events: out.events, state: actOnNamed(c, r, rules, back, state, ctx) };
    if (input.alias !== slackAlias(m, m.ts)) return { events: out.events, state: joinThread(c, state) };
    if (state !== undefined && !isIncidentState(state) && state.kind === 'slack-command' && state.command === THREAD_REQUEST) {
      return { events: out.events, state: open(c, r) };
    }
  }
  if (m.kind === 'edit') return { events: out.events, state: edit(c, r, state) };
  if (m.kind === 'delete') return { events: out.events, state: remove(c, r, state) };
  // Keyed by the incident it names (ingest does so since it acts on it): decided against that incident's state. A
  // record of the same text keyed by its own message (written before) still only says how, below, as it did.
  const named = namedIncidentCommand(m);
  if (named !== undefined && input.alias === named.alias) return { events: out.events, state: actOnNamed(c, r, rules, named, state, ctx) };
  // Keyed as ingest keyed it before quoted aliases were understood (the quotes in the key): decided as it was then.
  const unquoted = namedIncidentCommand(m, { quotedTargets: false });
  if (unquoted !== undefined && input.alias === unquoted.alias) return { events: out.events, state: actOnNamed(c, r, rules, unquoted, state, ctx) };

  if (state !== undefined) {
    suppress(c, 'duplicate', incident?.rule ?? r.rule, incident);
    return { events: out.events, state: incident ? folded(out, incident) : state };
  }
  // A plain channel message (message.channels subscriptions): a mention of the app comes as app_mention too.
  if (m.kind === 'message') suppress(c, 'not-addressed', r.rule);
  else if (r.drop) suppress(c, 'dropped-by-rule', r.rule);
  else if (m.botId !== undefined && !r.allowBots) suppress(c, 'bot-message', r.rule);
  else {
    // The user's own commands first, then the built-ins, then `commands.default`.
    const text = stripLeadingMentions(m.text);
    const own = matchHandler(rules, text);
    if (own) return { events: out.events, state: custom(c, r, rules, own.handler, own.groups, text) };
    // An incident id ingest could not find: keyed by its own message, with why.
    const byId = m.targetProblem !== undefined ? namedIncidentId(m) : undefined;
    if (byId !== undefined) return { events: out.events, state: unfound(c, r, rules, byId, m.targetProblem!) };
    // Keyed by its own message: ingest keys a quoted alias by the alias (above) now, so a quoted one here was written
    // before that (a request then, when it had spaces) or names an incident id before ingest looked them up: read as then.
    const cmd = parseCommand(m.text, { quotedTargets: false });
    const next = cmd.name === 'request' ? unmatched(c, r, rules, text) : command(c, r, cmd, rules);
    return { events: out.events, state: next };
  }
  return { events: out.events, state };
}
