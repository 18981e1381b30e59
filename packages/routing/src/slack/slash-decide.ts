/**
 * Decides a slash command. Read-only answers (help, on-call, incidents, silences) become an AnswerSlashCommand for
 * the slack-sink; `ack` / `resolve` arrive keyed by the incident's alias and take the path a click on its button
 * takes; `silence` / `unsilence` write the silence events the history API writes. Every action that changes
 * something asks authorize() first; a refusal changes nothing, is recorded, and is answered to that user only.
 */
import type { AliasState, AnyEnvelope, DecisionReason, Envelope, RuleRef } from '@alertbus/schemas';
import { evolve, isIncidentEvent } from '../core/evolve';
import { Outputs } from '../core/outputs';
import { BUTTON_ACTION_IDS } from '../core/render';
import { escapeMrkdwn, truncate } from '../core/text';
import { withoutCredentials } from '../core/shown-text';
import type { CompiledRules } from '../rules/types';
import type { DecisionContext } from '../core/context';
import type { SilenceLookup, SilenceRecord } from '../core/silences';
import { isIncidentState, type RouterState } from '../state';
import { decideSlackAction, type ActionContext } from './actions';
import { STORM_KEY_PREFIX } from '../core/storm';
import { authorize, type SlackAction } from './authorize';
import { routeSlackMessage } from './route';
import { looksLikeIncidentId, NO_SUCH_INCIDENT, parseSlash, slashHelpText, usageOf, type SlashCommand } from './slash';
import { NO_SCHEDULE_TEXT, TITLE_MAX } from './texts';

type SlashInput = Envelope<'SlackSlashCommandReceived'>;

const folded = (out: Outputs, s: AliasState) => out.events.filter(isIncidentEvent).reduce(evolve, s)!;
type Decided = { events: Outputs['events']; state: RouterState | undefined };

/** How the router marks the SlackActionReceived it decides for a slash `ack` / `resolve` (never written to Kafka). */
export const SLASH_ACTION_TYPE = 'slash-command';

/** The silence alias, as the history API writes it (`silence:{id}`), so the silence's events share one key. */
const silenceKey = (silenceId: string) => `silence:${silenceId}`;

interface Ctx {
  readonly input: SlashInput;
  readonly out: Outputs;
  readonly rule: RuleRef;
  readonly public: boolean;
}

/**
 * Who asked and where: the channel lets the slack-sink answer there (ephemeral, as Slack shows a response_url's
 * answer) when the response_url cannot be reached. Taken from the input alone, so a replay decides the same.
 */
const askedBy = (d: SlashInput['data']) => ({ requester: d.user, channel: d.channel });

function answer(c: Ctx, text: string, opts: { ephemeral?: boolean; incidentId?: string } = {}): void {
  const d = c.input.data;
  c.out.add('AnswerSlashCommand', {
    ...(opts.incidentId ? { incidentId: opts.incidentId } : {}),
    rule: c.rule,
    responseUrl: d.responseUrl,
    responseType: c.public && !opts.ephemeral ? 'in_channel' : 'ephemeral',
    ...askedBy(d),
    answer: { kind: 'text', text },
  });
}

function suppress(c: Ctx, reason: DecisionReason, extra: Record<string, unknown> = {}): void {
  c.out.add('EventSuppressed', { inputId: c.input.id, inputType: c.input.type, reason, rule: c.rule, ...extra });
}

/** authorize(), and on a refusal the record of it and the private answer; true when the action may go on. */
function permitted(c: Ctx, action: SlackAction, rules: CompiledRules, incident?: { incidentId: string; title: string }): boolean {
  const d = c.input.data;
  const a = authorize(rules, { userId: d.user, ...(d.userGroups ? { groups: d.userGroups } : {}) }, action);
  if (a.allowed) return true;
  suppress(c, 'not-permitted', {
    ...(incident ? { incidentId: incident.incidentId, title: incident.title } : {}),
    refused: { action, user: d.user, role: a.role, needed: a.needed, reason: a.reason, ...(d.userGroups ? { groups: d.userGroups } : {}) },
  });
  answer(c, `You may not ${action}: it needs the *${a.needed}* role, and yours is *${a.role}*. ${escapeMrkdwn(a.reason)}`.trim(), {
    ephemeral: true,
  });
  return false;
}

const code = (text: string) => `\`${escapeMrkdwn(truncate(text, 200)).replace(/`/g, "'")}\``;

const STORM_PAGE_NOTED = "It pages through its storm's alert, which got a note saying so and stays open until every incident of the storm is resolved.";

/** The text after an ack / resolve, from what the button path decided (also told to a mention that named the incident). */
export function actionAnswer(name: 'ack' | 'resolve', target: string, events: readonly AnyEnvelope[], problem?: string, command = '/alertbus'): string {
  for (const e of events) {
    const d = e.data as { title?: string; reason?: string };
    const title = escapeMrkdwn(truncate(withoutCredentials(d.title ?? ''), TITLE_MAX));
    if (e.type === 'IncidentAcknowledged') {
      // A storm member: its page is the storm's, shared with the others, and only noted.
      const stormPage = events.some((x) => x.type === 'AddPagerNote' && x.alias.startsWith(STORM_KEY_PREFIX));
      return `Acknowledged: ${title} (${code(target)})${stormPage ? `. ${STORM_PAGE_NOTED}` : ''}`;
    }
    if (e.type === 'IncidentResolved') return `Resolved: ${title} (${code(target)})`;
    if (e.type === 'EventSuppressed') {
      if (d.reason === 'already-resolved') return `${title} (${code(target)}) is already resolved.`;
      if (d.reason === 'already-acknowledged') return `${title} (${code(target)}) is already acknowledged.`;
      if (d.reason === 'other-occurrence') return `Incident ${code(target)} is over: its alert has fired again since, as a new incident (${title}).`;
    }
  }
  if (problem === NO_SUCH_INCIDENT) return `I could not find incident ${code(target)}: ${NO_SUCH_INCIDENT}.`;
  if (problem) {
    // It may well exist: how to act on it without the lookup, rather than a "not found" that is not known.
    return (
      `I could not look up incident ${code(target)} (${escapeMrkdwn(truncate(problem, 300))}), so nothing was ` +
      `${name === 'ack' ? 'acknowledged' : 'resolved'}. The buttons on the incident's message work without this lookup, ` +
      `as does \`${escapeMrkdwn(`${truncate(command, 100)} ${name} <alias>`)}\` with the alias shown there.`
    );
  }
  return `I know of no incident with the alias ${code(target)}, so there is nothing to ${name === 'ack' ? 'acknowledge' : 'resolve'}. ` +
    `Use the alias shown on the incident (\`${escapeMrkdwn(truncate(command, 100))} incidents\` lists them).`;
}

/**
 * `ack` / `resolve`: the record is keyed by the incident's alias (as typed, or looked up by ingest for an incident
 * id), so `state` is the incident's. By id, the click names the occurrence, so an old id cannot touch a newer one.
 */
function act(
  c: Ctx,
  cmd: Extract<SlashCommand, { name: 'ack' | 'resolve' }>,
  state: RouterState | undefined,
  rules: CompiledRules,
  ctx: ActionContext,
): RouterState | undefined {
  const { input, out } = c;
  const d = input.data;
  const incident = isIncidentState(state) ? state : undefined;
  const byId = d.target !== undefined && d.target.incidentId === cmd.target ? d.target : undefined;
  if (input.alias !== (byId?.alias ?? cmd.target)) {
    // Only ingest's key puts the command where the incident is; a record keyed otherwise cannot see it.
    suppress(c, 'no-incident');
    // An error: private even with --public (a typo in an alias is nobody else's business).
    answer(c, actionAnswer(cmd.name, cmd.target, [], d.targetProblem ?? (looksLikeIncidentId(cmd.target) ? NO_SUCH_INCIDENT : undefined), d.command), { ephemeral: true });
    return incident ? folded(out, incident) : state;
  }
  if (incident && !permitted({ ...c, rule: incident.rule }, cmd.name, rules, incident)) return folded(out, incident);
  const click: Envelope<'SlackActionReceived'> = {
    ...input,
    type: 'SlackActionReceived',
    data: {
      actionId: BUTTON_ACTION_IDS[cmd.name],
      actionType: SLASH_ACTION_TYPE,
      ...(byId ? { incidentId: byId.incidentId } : {}),
      user: { id: d.user, ...(d.userName ? { name: d.userName } : {}) },
      team: d.team,
      channel: d.channel,
      messageTs: '',
      raw: { slashCommand: d.command, text: d.text },
    },
  };
  const decided = decideSlackAction(click, state, rules, ctx);
  // The button path's events are this input's own: same ids, same cause; the answer follows them.
  out.events.push(...decided.events.map((e) => (e.type === 'EventSuppressed' ? ({ ...e, data: { ...e.data, inputType: input.type } } as AnyEnvelope) : e)));
  // Only what it did goes to the channel with --public; "already acknowledged", "over", "not permitted" stay private.
  const acted = decided.events.some((e) => e.type === 'IncidentAcknowledged' || e.type === 'IncidentResolved');
  answer({ ...c, rule: incident?.rule ?? c.rule }, actionAnswer(cmd.name, cmd.target, decided.events, undefined, d.command), {
    ...(incident ? { incidentId: incident.incidentId } : {}),
    ...(acted ? {} : { ephemeral: true }),
  });
  return decided.state;
}

function silence(c: Ctx, cmd: Extract<SlashCommand, { name: 'silence' }>, rules: CompiledRules): void {
  if (!permitted(c, 'silence', rules)) return;
  const { input } = c;
  const d = input.data;
  const silenceId = `slack-${input.id}`;
  const startsAt = input.recordedAt;
  const endsAt = new Date(Date.parse(startsAt) + cmd.durationMs).toISOString();
  suppress(c, 'command');
  c.out.add(
    'SilenceCreated',
    {
      silenceId,
      matchers: [...cmd.matchers],
      startsAt,
      endsAt,
      createdBy: `slack:${d.user}`,
      comment: cmd.comment ?? `silenced from Slack by ${d.userName ?? d.user}`,
      kind: 'silence',
    },
    silenceKey(silenceId),
  );
  const matchers = cmd.matchers.map(code).join(' ');
  answer(c, `Silenced ${matchers} for ${escapeMrkdwn(cmd.duration)}, until ${endsAt}. Silence id: ${code(silenceId)} (\`unsilence\` ends it).`);
}

function unsilence(c: Ctx, cmd: Extract<SlashCommand, { name: 'unsilence' }>, rules: CompiledRules, silences: SilenceLookup | undefined): void {
  if (!permitted(c, 'unsilence', rules)) return;
  const { input } = c;
  suppress(c, 'command');
  // A mistyped id must not read as a silence ended while the real one keeps muting; one already over ends nothing.
  // Asked as of the command's time, as alerts ask: a silence created after it is not known to it.
  if (silences?.get) {
    const at = Date.parse(input.recordedAt);
    const known = silences.get(cmd.silenceId);
    if (!known || known.createdAtMs > at) {
      answer(c, `I know of no silence with the id ${code(cmd.silenceId)}, so nothing was ended. \`/alertbus silences\` lists the running and pending ones with their ids.`);
      return;
    }
    const endedAt = ended(known, at);
    if (endedAt !== undefined) {
      answer(c, `Silence ${code(cmd.silenceId)} had already ended (${new Date(endedAt).toISOString()}); nothing was changed.`);
      return;
    }
  }
  c.out.add('SilenceExpired', { silenceId: cmd.silenceId, expiredBy: `slack:${input.data.user}`, expiredAt: input.recordedAt }, silenceKey(cmd.silenceId));
  answer(c, `Silence ${code(cmd.silenceId)} ends now (if it was still running).`);
}

/** When a silence stopped applying, as of `atMs`, or undefined while it applies or is still to start. */
function ended(s: SilenceRecord, atMs: number): number | undefined {
  if (s.expiry && s.expiry.recordedAtMs <= atMs && s.expiry.expiredAtMs <= atMs) return Math.min(s.expiry.expiredAtMs, s.endsAtMs);
  return s.endsAtMs <= atMs ? s.endsAtMs : undefined;
}

/** The schedule `oncall` without a name asks for: the rules' for this channel, as for a mention there. */
function scheduleFor(input: SlashInput, rules: CompiledRules): string | undefined {
  const d = input.data;
  return routeSlackMessage(rules, {
    kind: 'slack-message',
    channel: d.channel,
    user: d.user,
    text: d.text,
    labels: { kind: 'slash-command', channel_type: 'unknown', team: d.team },
    alias: input.alias,
  }).schedule;
}

/** Decides one slash command against the state of its key. Pure. */
export function decideSlashCommand(
  input: SlashInput,
  state: RouterState | undefined,
  rules: CompiledRules,
  ctx: Pick<DecisionContext, 'silenceMaxMs' | 'neighbours' | 'retentionMs' | 'silences'> = {},
): Decided {
  const d = input.data;
  const out = new Outputs(input);
  const parsed = parseSlash(d.text, { silenceMaxMs: ctx.silenceMaxMs });
  const cmd = parsed.command;
  const c: Ctx = { input, out, rule: { path: 'defaults', rulesVersion: rules.version }, public: parsed.public };

  if (cmd.name === 'ack' || cmd.name === 'resolve') {
    // Slack's redelivery of a command this incident already took: nothing again.
    if (isIncidentState(state) && state.lastInputId === input.id) {
      suppress({ ...c, rule: state.rule }, 'duplicate', { incidentId: state.incidentId, title: state.title });
      return { events: out.events, state: folded(out, state) };
    }
    const next = act(c, cmd, state, rules, ctx);
    return { events: out.events, state: next };
  }
  if (state !== undefined) {
    suppress(c, 'duplicate');
    return { events: out.events, state };
  }
  switch (cmd.name) {
    case 'help':
      suppress(c, 'command');
      answer(c, slashHelpText(d.command));
      break;
    case 'oncall': {
      suppress(c, 'command');
      const schedule = cmd.schedule ?? scheduleFor(input, rules);
      if (schedule) {
        out.add('AnswerSlashCommand', {
          rule: c.rule,
          responseUrl: d.responseUrl,
          responseType: c.public ? 'in_channel' : 'ephemeral',
          ...askedBy(d),
          answer: { kind: 'oncall', schedule },
        });
      } else answer(c, NO_SCHEDULE_TEXT.replace('`oncall &lt;schedule&gt;`', `\`${escapeMrkdwn(`${d.command} oncall <schedule>`)}\``), { ephemeral: true });
      break;
    }
    case 'incidents':
    case 'silences':
      suppress(c, 'command');
      out.add('AnswerSlashCommand', {
        rule: c.rule,
        responseUrl: d.responseUrl,
        responseType: c.public ? 'in_channel' : 'ephemeral',
        ...askedBy(d),
        answer: cmd.name === 'incidents' ? { kind: 'incidents', filter: cmd.filter } : { kind: 'silences' },
      });
      break;
    case 'silence':
      silence(c, cmd, rules);
      break;
    case 'unsilence':
      unsilence(c, cmd, rules, ctx.silences);
      break;
    case 'invalid':
      suppress(c, 'command');
      answer(c, `${cmd.problem}\nUsage: \`${escapeMrkdwn(d.command)} ${escapeMrkdwn(usageOf(cmd.subcommand))}\``, { ephemeral: true });
      break;
    case 'unknown':
      suppress(c, 'command');
      answer(c, `I don't know ${code(cmd.word)}.\n${slashHelpText(d.command)}`, { ephemeral: true });
      break;
  }
  return { events: out.events, state: { kind: 'slack-command', key: input.alias, command: `slash:${cmd.name}`, inputId: input.id, at: input.recordedAt } };
}
