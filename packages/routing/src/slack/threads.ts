import type { Envelope } from '@alertbus/schemas';
import { Outputs } from '../core/outputs';
import { BUTTON_ACTION_IDS } from '../core/render';
import type { CompiledRules } from '../rules/types';
import { TEXT_COMMAND_ACTION_TYPE } from './actions';
import { isIncidentState, type RouterState } from '../state';
import { threadKey } from './thread-key';
import { NO_INCIDENT_TEXT, onCallAcknowledgement } from './texts';

type Decided = { events: Outputs['events']; state: RouterState | undefined };

/**
 * The slack-sink posted an incident's root message: from now on its thread belongs to the incident. The
 * delivery is keyed by the incident alias; the thread's record lives under the thread's key, so the
 * link travels there as an input of its own. If the rule said `mention_oncall`, the on-call is asked into
 * the new thread now that it exists. Dry-run posts have no real ts and do neither.
 */
export function decideRootPosted(input: Envelope<'SlackMessagePosted'>, state: RouterState | undefined): Decided {
  const d = input.data;
  const out = new Outputs(input);
  if (d.purpose !== 'root' || d.dryRun || !/^\d+(\.\d+)?$/.test(d.ts)) return { events: [], state };
  const incident = isIncidentState(state) && state.incidentId === d.incidentId ? state : undefined;
  if (incident?.mentionOnCall !== undefined && incident.status !== 'resolved') {
    out.add('ReplyWithOnCall', {
      incidentId: incident.incidentId,
      rule: incident.rule,
      channel: d.channel,
      threadTs: d.ts,
      schedule: incident.mentionOnCall,
      acknowledgement: onCallAcknowledgement(incident.mentionOnCall),
    });
  }
  out.add('SlackThreadLinked', { channel: d.channel, threadTs: d.ts, alias: input.alias, incidentId: d.incidentId }, threadKey(d.channel, d.ts));
  return { events: out.events, state };
}

/** A thread belongs to the first incident linked to it (a request made inside an alert's thread does not take it over). */
export function decideThreadLinked(input: Envelope<'SlackThreadLinked'>, state: RouterState | undefined): Decided {
  if (state !== undefined) return { events: [], state };
  const d = input.data;
  return {
    events: [],
    state: { kind: 'slack-thread', key: input.alias, channel: d.channel, threadTs: d.threadTs, alias: d.alias, incidentId: d.incidentId, inputId: input.id, at: input.recordedAt },
  };
}

/**
 * `ack` / `resolve` typed in a thread, at the thread's record: sent on to the incident as the click on its
 * button would be, with the incident id the thread was linked to (so an old thread cannot touch a newer
 * occurrence). A thread with no incident gets an answer saying so.
 */
export function decideTextCommand(input: Envelope<'SlackTextCommandReceived'>, state: RouterState | undefined, rules: CompiledRules): Decided {
  const d = input.data;
  const out = new Outputs(input);
  const rule = { path: 'defaults', rulesVersion: rules.version };
  if (state === undefined || isIncidentState(state) || state.kind !== 'slack-thread') {
    out.add('EventSuppressed', { inputId: input.id, inputType: input.type, reason: 'no-incident', rule });
    out.add('PostSlackReply', { rule, channel: d.channel, threadTs: d.threadTs, text: NO_INCIDENT_TEXT });
    return { events: out.events, state };
  }
  out.add(
    'SlackActionReceived',
    {
      actionId: BUTTON_ACTION_IDS[d.command],
      actionType: TEXT_COMMAND_ACTION_TYPE,
      value: JSON.stringify({ alias: state.alias, incidentId: state.incidentId }),
      incidentId: state.incidentId,
      user: { id: d.user, ...(d.userName ? { name: d.userName } : {}) },
      ...(d.userGroups ? { userGroups: d.userGroups } : {}),
      team: d.team,
      channel: d.channel,
      messageTs: d.threadTs,
      raw: { textCommand: d.command, messageAlias: d.messageAlias, messageTs: d.messageTs },
    },
    state.alias,
  );
  return { events: out.events, state };
}
