import { deriveId, formatDuration, makeEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { stormLimitsFor } from './core/storm';
import { decide } from './decider';
import { matchLabels, route, traceRules, type RuleTrace } from './rules/route';
import { mayInhibit } from './core/suppressed-firing';
import type { CompiledRules, RoutableAlert, RoutableSlackMessage, Route } from './rules/types';
import { parseCommand, stripLeadingMentions } from './slack/commands';
import { roleOf } from './slack/authorize';
import { isSingleWord, matchHandler } from './slack/custom-commands';
import { routeSlackMessage, type SlackRoute } from './slack/route';
import { namedIncidentCommand } from './slack/mention-key';

/** Which rules an input matches, where it goes, what the router would emit for it, and why. */
export interface Explanation {
  input: { alias?: string; title?: string; source: string; severity?: string; status?: string; labels: Record<string, string>; channel?: string; user?: string; text?: string };
  trace: RuleTrace[];
  route: Route;
  /** The router's outputs for this input when nothing is open for its alias and nothing is silenced. */
  events: AnyEnvelope[];
  why: string[];
  /** Slack messages: which command the text is (the rules file's own, a built-in, or commands.default) and the sender's role. */
  command?: { kind: 'handler' | 'builtin' | 'default'; name: string; groups?: Record<string, string>; says: string; role: string };
}

function reasons(rules: CompiledRules, r: Route, severity: string | undefined, inhibits = false): string[] {
  const why: string[] = [];
  if (r.rule.path === 'defaults') why.push('no rule matched: the defaults apply');
  else why.push(`decided by ${r.rule.path}${r.rule.name ? ` (${r.rule.name})` : ''}, rules version ${rules.version.slice(0, 12)}`);
  if (r.drop) {
    why.push('a drop rule matched: firing alerts are suppressed (dropped-by-rule); a resolve still closes an open incident');
    if (inhibits) why.push('dropped, it still inhibits the targets of the inhibit rules whose source it matches, until it resolves');
    return why;
  }
  const source = { rule: 'the rule names it', tag: 'tag → channel map', severity: `severity → channel map (${severity ?? ''})`, defaults: 'the default channel' };
  why.push(r.slackChannel ? `Slack ${r.slackChannel}: ${source[r.channelSource ?? 'defaults']}` : 'no Slack message: Slack is disabled for this route');
  why.push(r.pager ? `pager ${r.pager.priority}${r.pager.alias ? `, alias "${r.pager.alias}"` : ''}` : 'nobody paged: the pager is disabled for this route');
  why.push(`repeat interval ${formatDuration(r.repeatIntervalMs)}`);
  if (r.mentionOnCall) why.push(`mention the on-call of schedule ${r.mentionOnCall}`);
  if (r.mention) why.push(`the root post and each re-notification ping ${r.mention.join(' ')} (the rule's mention)`);
  if (rules.inhibit.length > 0) {
    why.push(`inhibit rules (${rules.inhibit.length}) and silences depend on what else fires (open incidents, and firings silenced or dropped by a rule): see \`alertbus rules backtest\``);
  }
  if (inhibits) why.push('it is a source of an inhibit rule: silenced, it still inhibits that rule\'s targets, until it resolves');
  if (rules.stormControl) {
    const grouped = r.pager && (r.pager.storm ?? (r.slackChannel !== undefined ? stormLimitsFor(rules, r.slackChannel)?.pages : undefined) ?? 'grouped') === 'grouped';
    why.push(
      `storm control may gather it into a summary when many incidents open at once${r.pager ? (grouped ? ', and page once for the storm instead of on its own' : ', still paged on its own (pages: each)') : ''}`,
    );
  }
  return why;
}

export function explainAlert(rules: CompiledRules, input: Envelope<'AlertReceived'>): Explanation {
  const a = input.data;
  const routable: RoutableAlert = { labels: a.labels, source: a.source, severity: a.severity, status: a.status, alias: input.alias };
  const r = route(rules, routable);
  return {
    input: { alias: input.alias, title: a.title, source: a.source, severity: a.severity, status: a.status, labels: a.labels },
    trace: traceRules(rules, routable),
    route: r,
    events: decide(input, undefined, rules).events,
    why: reasons(rules, r, a.severity, a.status === 'firing' && mayInhibit(rules, matchLabels(routable))),
  };
}

/** The Slack route's part of the answer: who answers, whether it pages, and what a bot or a drop rule would do. */
function slackReasons(rules: CompiledRules, r: SlackRoute): string[] {
  const why: string[] = [];
  if (r.rule.path === 'defaults') why.push('no rule matched: the defaults apply');
  else why.push(`decided by ${r.rule.path}${r.rule.name ? ` (${r.rule.name})` : ''}, rules version ${rules.version.slice(0, 12)}`);
  if (r.drop) return [...why, 'a drop rule matched: the message is ignored (dropped-by-rule)'];
  why.push(
    r.oncall
      ? `a mention or DM gets the on-call of schedule ${r.oncall} in its thread`
      : r.oncallDisabled
        ? 'no on-call reply: the rule turns it off'
        : 'no on-call schedule is configured: the reply says so',
  );
  why.push(r.pager ? `pager ${r.pager.priority} with the message alias` : 'nobody paged: only a matching rule with its own pager section pages for Slack messages');
  why.push(r.allowBots ? "other apps' messages are allowed" : "other apps' messages are dropped (allow_bots is not set)");
  why.push('commands (help, oncall, cache clear, ack, resolve) are answered instead; redeliveries and edits never answer twice');
  return why;
}

/** Which command a text to the app is: the rules file's handlers first, then the built-ins, then `commands.default`. */
export function explainCommand(rules: CompiledRules, text: string, user: string, userGroups?: readonly string[]): NonNullable<Explanation['command']> {
  const t = stripLeadingMentions(text);
  const r = roleOf(rules, { userId: user, ...(userGroups ? { groups: userGroups } : {}) });
  const role = `${user || '(no user)'} is ${r.role} (${r.from})`;
  const own = matchHandler(rules, t);
  if (own) {
    const h = own.handler;
    const action = h.action.kind === 'reply' ? 'reply: in the thread' : h.action.kind === 'webhook' ? `webhook: POST to ${h.action.url.split('?')[0]}, its text in the thread` : `command: ${h.action.name} on commands.custom.v1`;
    return { kind: 'handler', name: `${h.path}${h.name ? ` (${h.name})` : ''}`, groups: { ...own.groups }, says: `${action}${h.role ? `; needs ${h.role}` : ''}`, role };
  }
  const cmd = parseCommand(text);
  if (cmd.name !== 'request') {
    const needs = cmd.name === 'cache-clear' ? '; needs admin' : cmd.name === 'ack' || cmd.name === 'resolve' ? '; needs operator' : '';
    return { kind: 'builtin', name: cmd.name, says: `the built-in ${cmd.name}${needs}`, role };
  }
  const d = rules.commands.default;
  const says =
    d === 'help' ? 'no command matched: commands.default help answers with the help'
      : d === 'ignore' ? 'no command matched: commands.default ignore says nothing'
        : isSingleWord(t) ? 'a single unknown word: answered "I didn\'t understand — try `help`", nobody paged'
          : 'no command matched: commands.default oncall makes it a request for help';
  return { kind: 'default', name: d, says, role };
}

/** Slack messages: which rules match, what the router would do with the message as a mention of the app, and why. */
export function explainSlackMessage(rules: CompiledRules, msg: RoutableSlackMessage & { userGroups?: readonly string[] }): Explanation {
  const matched: RoutableSlackMessage = { ...msg, text: stripLeadingMentions(msg.text) };
  const s = routeSlackMessage(rules, matched);
  const at = '1970-01-01T00:00:00.000Z';
  const id = deriveId('alertbus-explain', msg.channel, msg.user, msg.text);
  // `ack|resolve <alias>` is keyed by the alias it names, as ingest keys it, so the decision is the one made at that
  // alias (here with no incident known there); keyed by the message, it read as an old mention outside any thread.
  const named = namedIncidentCommand({ kind: 'mention', team: 'explain', channel: msg.channel, ts: '0', text: msg.text });
  const input = makeEnvelope({
    id,
    type: 'SlackMessageReceived',
    alias: named?.alias ?? `slack:explain:${msg.channel}:0`,
    occurredAt: at,
    recordedAt: at,
    source: 'explain',
    data: {
      kind: 'mention',
      team: 'explain',
      channel: msg.channel,
      channelType: 'unknown',
      ...(msg.user ? { user: msg.user } : {}),
      text: msg.text,
      ...(msg.userGroups ? { userGroups: [...msg.userGroups] } : {}),
      ts: '0',
      eventId: id,
      eventTime: at,
      raw: null,
    },
  });
  return {
    input: { source: 'slack', labels: { ...msg.labels }, channel: msg.channel, user: msg.user, text: msg.text },
    trace: traceRules(rules, matched),
    route: route(rules, matched),
    events: decide(input, undefined, rules).events,
    why: slackReasons(rules, s),
    command: explainCommand(rules, msg.text, msg.user, msg.userGroups),
  };
}

function traceLines(trace: RuleTrace[], depth: number): string[] {
  const out: string[] = [];
  for (const t of trace) {
    const mark = t.applied ? '✓' : t.matched ? '↳' : t.failed === '(not reached)' ? '·' : '✗';
    const label = `${t.path}${t.name ? ` ${t.name}` : ''}`;
    const note = t.applied ? 'matched, applies' : t.matched ? 'matched, a nested rule applies' : t.failed === '(not reached)' ? 'not reached' : `no match: ${t.failed}`;
    out.push(`${'  '.repeat(depth)}${mark} ${label.padEnd(Math.max(10, 40 - depth * 2))} ${note}`);
    out.push(...traceLines(t.routes, depth + 1));
  }
  return out;
}

function eventLine(e: AnyEnvelope): string {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case 'PostSlackMessage':
      return `${e.type} ${d.purpose} → ${d.channel}: ${JSON.stringify(d.text)}`;
    case 'CreatePagerAlert': {
      const responders = (d.responders as Array<{ type: string; name?: string; id?: string }>).map((r) => `${r.type}:${r.name ?? r.id}`);
      return `${e.type} ${d.priority} alias ${JSON.stringify(e.alias)}${responders.length ? ` responders ${responders.join(',')}` : ''}${(d.tags as string[]).length ? ` tags ${(d.tags as string[]).join(',')}` : ''}`;
    }
    case 'UpdatePagerPriority':
      return `${e.type} ${d.from ? `${d.from} → ` : ''}${d.priority} alias ${JSON.stringify(e.alias)}`;
    case 'ReplyWithOnCall':
      return `${e.type} schedule ${d.schedule} in the message's thread`;
    case 'PostSlackReply':
    case 'PostSlackEphemeral':
      return `${e.type}${e.type === 'PostSlackEphemeral' ? ` to ${d.user} alone` : ''}: ${JSON.stringify(d.text)}`;
    case 'CallCommandWebhook':
      return `${e.type} POST ${String(d.url).split('?')[0]} (timeout ${Number(d.timeoutMs) / 1000} s), its text in the thread`;
    case 'CustomCommandRequested':
      return `${e.type} ${d.name} ${JSON.stringify(d.groups)} on commands.custom.v1`;
    default:
      return `${e.type}${d.reason ? ` (${d.reason})` : ''}`;
  }
}

/** The explanation as text for people. */
export function formatExplanation(x: Explanation, heading: string): string {
  const i = x.input;
  const lines = [heading];
  if (i.source === 'slack') lines.push(`  Slack message in ${i.channel} from ${i.user}: ${JSON.stringify(i.text)}`);
  else {
    lines.push(`  ${i.alias}  ${JSON.stringify(i.title)}  (${i.severity}, ${i.status}, from ${i.source})`);
    const labels = Object.entries(i.labels).sort(([a], [b]) => (a < b ? -1 : 1));
    lines.push(`  labels: ${labels.map(([k, v]) => `${k}=${v}`).join(', ') || '(none)'}`);
  }
  lines.push('  rules:');
  lines.push(...(x.trace.length ? traceLines(x.trace, 2) : ['    (the file has no rules)']));
  if (x.command) {
    const c = x.command;
    lines.push(`  command: ${c.kind === 'handler' ? c.name : c.kind === 'builtin' ? `built-in ${c.name}` : `default ${c.name}`}`);
    if (c.groups && Object.keys(c.groups).length) lines.push(`    groups: ${Object.entries(c.groups).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`);
    lines.push(`    ${c.says}`);
    lines.push(`    ${c.role}`);
  }
  lines.push('  why:');
  lines.push(...x.why.map((w) => `    - ${w}`));
  if (x.events.length > 0) {
    lines.push(i.source === 'slack' ? '  would emit (as a first mention of the app):' : '  would emit (nothing open for the alias, nothing silenced):');
    lines.push(...x.events.map((e) => `    ${eventLine(e)}`));
  }
  return lines.join('\n');
}
