import { INCIDENT_COMMAND_TYPES, INCIDENT_EVENT_TYPES, type AnyEnvelope, type EventType } from '@alertbus/schemas';
import { STORM_KEY_PREFIX } from '../core/storm';

/** What one decision output amounts to, for comparing what happened with what would have happened. */
export interface Effect {
  type: EventType;
  /** The input the output was decided from. */
  inputId: string;
  incidentId?: string;
  reason?: string;
  /** Thread channel (IncidentOpened) or post channel (PostSlackMessage). */
  channel?: string;
  purpose?: string;
  priority?: string;
  /** Set when storm control gathered the incident into this channel's summary. */
  stormChannel?: string;
  /** With stormChannel: the incident pages through the storm's one pager alert, of this priority. */
  stormPage?: { priority?: string };
  /**
   * A command about a storm's summary or page (keyed by the storm, `storm:{channel}:{since}`): the storm's, not the
   * outcome of the member whose input happened to cause it.
   */
  storm?: string;
  /** Rules version of an incident event. */
  rulesVersion?: string;
  /** An EventSuppressed that keeps (or refreshes) the firing under its alias (its `kept`). */
  keeps?: true;
  /** An EventSuppressed by an inhibit rule: the inhibitor's alias. */
  inhibitedBy?: string;
}

/** The router's decisions and its commands about an incident's message and pager alert. */
const TRACKED: ReadonlySet<string> = new Set([...INCIDENT_EVENT_TYPES, ...INCIDENT_COMMAND_TYPES]);

/** The part of a router output a comparison needs; null for outputs that are not decisions or commands. */
export function toEffect(e: AnyEnvelope): Effect | null {
  if (!TRACKED.has(e.type) || e.causationId === null) return null;
  const d = e.data as {
    incidentId?: string;
    reason?: string;
    channel?: string;
    purpose?: string;
    priority?: string;
    slack?: { channel: string };
    suppressedBy?: { kind: string; channel?: string; pageGrouped?: boolean; pagePriority?: string; alias?: string };
    kept?: object | false;
    rule?: { rulesVersion?: string };
  };
  const out: Effect = { type: e.type, inputId: e.causationId };
  if (d.incidentId !== undefined) out.incidentId = d.incidentId;
  if (d.reason !== undefined) out.reason = d.reason;
  if (e.type === 'IncidentOpened' || e.type === 'IncidentReopened') {
    if (d.slack) out.channel = d.slack.channel;
  } else if (d.channel !== undefined) out.channel = d.channel;
  if (d.purpose !== undefined) out.purpose = d.purpose;
  if (d.priority !== undefined) out.priority = d.priority;
  if (e.type === 'EventSuppressed' && typeof d.kept === 'object' && d.kept !== null) out.keeps = true;
  if (e.type === 'EventSuppressed' && d.suppressedBy?.kind === 'inhibition' && d.suppressedBy.alias !== undefined) out.inhibitedBy = d.suppressedBy.alias;
  if (e.type === 'EventSuppressed' && d.suppressedBy?.kind === 'storm' && d.suppressedBy.channel) {
    out.stormChannel = d.suppressedBy.channel;
    if (d.suppressedBy.pageGrouped === true) out.stormPage = d.suppressedBy.pagePriority !== undefined ? { priority: d.suppressedBy.pagePriority } : {};
  }
  if (INCIDENT_COMMAND_TYPES.has(e.type) && e.alias.startsWith(STORM_KEY_PREFIX)) out.storm = e.alias;
  if (e.type.startsWith('Incident') || e.type === 'EventSuppressed') {
    if (d.rule?.rulesVersion) out.rulesVersion = d.rule.rulesVersion;
  }
  return out;
}

/** The outcome of one incident (or of the inputs of an alias that opened none), as an SRE would compare it. */
export interface Outcome {
  /** The incident's own thread, `#ch (storm summary)` when gathered into a summary, null when nothing was posted. */
  channel: string | null;
  /** Priority of the pager alert, null when nobody was paged. */
  priority: string | null;
  paged: boolean;
  /** Reasons inputs were suppressed (dropped-by-rule, silenced, inhibited, storm-control, …), sorted. */
  suppressed: string[];
  /** Slack messages posted per channel (roots and replies; summaries count where they were posted). */
  messages: Record<string, number>;
}

export const OUTCOME_FIELDS = ['channel', 'priority', 'paged', 'suppressed', 'messages'] as const;
export type OutcomeField = (typeof OUTCOME_FIELDS)[number];

export function outcomeOf(effects: readonly Effect[]): Outcome {
  let channel: string | null = null;
  let priority: string | null = null;
  let paged = false;
  const suppressed = new Set<string>();
  const messages: Record<string, number> = {};
  for (const e of effects) {
    switch (e.type) {
      case 'IncidentOpened':
      case 'IncidentReopened':
        if (channel === null && e.channel !== undefined) channel = e.channel;
        break;
      case 'EventSuppressed':
        if (e.reason) suppressed.add(e.reason);
        if (channel === null && e.stormChannel) channel = `${e.stormChannel} (storm summary)`;
        // Paged through the storm's one alert: the pager saw it there.
        if (e.stormPage) {
          paged = true;
          if (priority === null && e.stormPage.priority !== undefined) priority = e.stormPage.priority;
        }
        break;
      case 'PostSlackMessage':
        if (e.storm !== undefined) {
          // A storm's summary: its own thread in its channel.
          if (channel === null && e.channel !== undefined) channel = `${e.channel} (storm summary)`;
        }
        if (e.channel !== undefined) messages[e.channel] = (messages[e.channel] ?? 0) + 1;
        break;
      case 'CreatePagerAlert':
        paged = true;
        if (priority === null && e.priority !== undefined) priority = e.priority;
        break;
      case 'UpdatePagerPriority':
        // Raised later (its severity rose): the priority the page ended with.
        if (e.priority !== undefined) priority = e.priority;
        break;
      default:
        break;
    }
  }
  const sortedMessages: Record<string, number> = {};
  for (const k of Object.keys(messages).sort()) sortedMessages[k] = messages[k]!;
  return { channel, priority, paged, suppressed: [...suppressed].sort(), messages: sortedMessages };
}

/** The fields in which two outcomes differ, in a fixed order. */
export function differences(a: Outcome, b: Outcome): OutcomeField[] {
  return OUTCOME_FIELDS.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
}
