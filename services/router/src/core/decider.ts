import {
  deriveId,
  makeEnvelope,
  type AliasState,
  type AnyEnvelope,
  type DecisionReason,
  type Envelope,
  type EventData,
  type EventType,
  type RuleRef,
} from '@alertbus/schemas';
import { route } from '../rules/route';
import type { CompiledRules, Route } from '../rules/types';
import { pagerDescription, pagerDetails, pagerMessage, pagerTags } from './pager';
import { renderRoot, repeatReplyText, resolvedReplyText, type IncidentView } from './render';

/** The router's state for one alias: nothing yet, or the alias's latest incident. */
export type DeciderState = AliasState | undefined;

export interface Decision {
  /** Incident events first, then Slack commands, then pager commands. */
  events: AnyEnvelope[];
  state: DeciderState;
}

export const ROUTER_SOURCE = 'router';

const INCIDENT_EVENTS = new Set<EventType>([
  'IncidentOpened',
  'IncidentReopened',
  'IncidentRepeated',
  'IncidentUpdated',
  'IncidentAcknowledged',
  'IncidentResolved',
  'EventSuppressed',
]);

export function initialState(): DeciderState {
  return undefined;
}

export function isIncidentEvent(e: AnyEnvelope): boolean {
  return INCIDENT_EVENTS.has(e.type);
}

/** Collects the decision's outputs, each an envelope derived from the input (id, time, causation). */
class Outputs {
  readonly events: AnyEnvelope[] = [];
  constructor(private readonly input: Envelope<'AlertReceived'>) {}

  add<T extends EventType>(type: T, data: EventData<T>): void {
    const { input } = this;
    this.events.push(
      makeEnvelope({
        id: deriveId(input.id, type, this.events.length),
        type,
        alias: input.alias,
        occurredAt: input.occurredAt,
        recordedAt: input.recordedAt,
        source: ROUTER_SOURCE,
        causationId: input.id,
        correlationId: input.correlationId,
        data,
      }) as AnyEnvelope,
    );
  }
}

function view(s: AliasState): IncidentView {
  return {
    alias: s.alias,
    incidentId: s.incidentId,
    occurrence: s.occurrence,
    title: s.title,
    severity: s.severity,
    source: s.source,
    status: s.status,
    count: s.count,
    labels: s.labels,
    links: s.links,
    ...(s.description !== undefined ? { description: s.description } : {}),
    openedAt: s.openedAt,
    ...(s.resolvedAt !== undefined ? { resolvedAt: s.resolvedAt } : {}),
    rule: s.rule,
  };
}

function suppress(out: Outputs, input: Envelope<'AlertReceived'>, reason: DecisionReason, rule: RuleRef, state: DeciderState): void {
  out.add('EventSuppressed', {
    inputId: input.id,
    inputType: input.type,
    reason,
    rule,
    ...(state ? { incidentId: state.incidentId } : {}),
    title: input.data.title,
  });
}

function open(out: Outputs, input: Envelope<'AlertReceived'>, r: Route, previous: DeciderState): void {
  const a = input.data;
  const occurrence = previous ? previous.occurrence + 1 : 1;
  const incidentId = deriveId('incident', input.alias, occurrence);
  const type = previous ? 'IncidentReopened' : 'IncidentOpened';
  out.add(type, {
    incidentId,
    occurrence,
    title: a.title,
    severity: a.severity,
    source: a.source,
    status: 'open',
    count: 1,
    reason: previous ? 'reopened' : 'first-notification',
    rule: r.rule,
    inputId: input.id,
    labels: a.labels,
    ...(a.description !== undefined ? { description: a.description } : {}),
    links: a.links,
    openedAt: input.recordedAt,
    ...(r.slackChannel !== undefined ? { slack: { channel: r.slackChannel } } : {}),
    ...(r.pager ? { pager: { priority: r.pager.priority } } : {}),
    ...(previous ? { previousIncidentId: previous.incidentId } : {}),
  });
  const opened = evolve(previous, out.events[out.events.length - 1]!)!;
  if (r.slackChannel !== undefined) {
    const msg = renderRoot(view(opened));
    out.add('PostSlackMessage', { incidentId, rule: r.rule, channel: r.slackChannel, purpose: 'root', ...msg });
  }
  if (r.pager) {
    out.add('CreatePagerAlert', {
      incidentId,
      rule: r.rule,
      message: pagerMessage(a.title),
      description: pagerDescription(a),
      priority: r.pager.priority,
      tags: pagerTags(r.pager.tags),
      responders: [...r.pager.responders],
      details: pagerDetails(a.labels, {
        alertbus_alias: input.alias,
        alertbus_incident: incidentId,
        alertbus_occurrence: String(occurrence),
        alertbus_rule: r.rule.name ?? r.rule.path,
      }),
      source: `alertbus/${a.source}`,
    });
  }
}

function repeat(out: Outputs, input: Envelope<'AlertReceived'>, r: Route, s: AliasState): void {
  const elapsed = Date.parse(input.recordedAt) - Date.parse(s.lastNotifiedAt);
  const notified = elapsed >= r.repeatIntervalMs;
  out.add('IncidentRepeated', {
    incidentId: s.incidentId,
    occurrence: s.occurrence,
    title: s.title,
    severity: s.severity,
    source: s.source,
    status: s.status,
    count: s.count + 1,
    reason: notified ? 'repeat-interval-elapsed' : 'duplicate',
    rule: r.rule,
    inputId: input.id,
    labels: input.data.labels,
    notified,
  });
  if (!notified) return;
  const repeated = view({ ...s, count: s.count + 1 });
  if (s.slackChannel !== undefined) {
    out.add('PostSlackMessage', {
      incidentId: s.incidentId,
      rule: r.rule,
      channel: s.slackChannel,
      purpose: 'reply',
      text: repeatReplyText(repeated),
    });
  }
  if (s.paged && r.pager?.noteOnRepeat) {
    out.add('AddPagerNote', {
      incidentId: s.incidentId,
      rule: r.rule,
      note: `Still firing (received ${repeated.count} times since ${s.openedAt}).`,
    });
  }
}

function resolve(out: Outputs, input: Envelope<'AlertReceived'>, r: Route, s: AliasState): void {
  out.add('IncidentResolved', {
    incidentId: s.incidentId,
    occurrence: s.occurrence,
    title: s.title,
    severity: s.severity,
    source: s.source,
    status: 'resolved',
    count: s.count,
    reason: 'resolved',
    rule: r.rule,
    inputId: input.id,
    labels: input.data.labels,
    resolvedAt: input.recordedAt,
  });
  const resolved = view(evolve(s, out.events[out.events.length - 1]!)!);
  if (s.slackChannel !== undefined) {
    out.add('PostSlackMessage', {
      incidentId: s.incidentId,
      rule: r.rule,
      channel: s.slackChannel,
      purpose: 'reply',
      text: resolvedReplyText(resolved),
    });
    out.add('UpdateSlackMessage', { incidentId: s.incidentId, rule: r.rule, ...renderRoot(resolved) });
  }
  if (s.paged) {
    out.add('ClosePagerAlert', { incidentId: s.incidentId, rule: r.rule, note: 'Resolved at the source.' });
  }
}

/**
 * Decides what an alert means for its alias. Time is the input's recordedAt, never the clock, so the
 * same inputs with the same rules always give byte-identical outputs. A drop rule only stops firing
 * alerts: a resolve always closes an open incident, so a rule change never strands one open.
 */
export function decide(input: Envelope<'AlertReceived'>, state: DeciderState, rules: CompiledRules): Decision {
  const a = input.data;
  const r = route(rules, { labels: a.labels, source: a.source, severity: a.severity, status: a.status });
  const out = new Outputs(input);
  const isOpen = state !== undefined && state.status !== 'resolved';
  if (a.status === 'firing') {
    if (r.drop) suppress(out, input, 'dropped-by-rule', r.rule, state);
    else if (!isOpen) open(out, input, r, state);
    else repeat(out, input, r, state);
  } else if (state === undefined) {
    suppress(out, input, 'resolved-without-open-incident', r.rule, state);
  } else if (!isOpen) {
    suppress(out, input, 'already-resolved', r.rule, state);
  } else {
    resolve(out, input, r, state);
  }
  const next = out.events.filter(isIncidentEvent).reduce<DeciderState>(evolve, state);
  return { events: out.events, state: next };
}

/**
 * Folds one incident event into the alias's state; commands and other events leave it as it is. The
 * state can therefore be rebuilt from incidents.v1 alone.
 */
export function evolve(state: DeciderState, event: AnyEnvelope): DeciderState {
  switch (event.type) {
    case 'IncidentOpened':
    case 'IncidentReopened': {
      const d = event.data;
      return {
        alias: event.alias,
        incidentId: d.incidentId,
        occurrence: d.occurrence,
        status: 'open',
        count: d.count,
        title: d.title,
        severity: d.severity,
        source: d.source,
        ...(d.description !== undefined ? { description: d.description } : {}),
        labels: d.labels,
        links: d.links,
        openedAt: d.openedAt,
        lastSeenAt: event.recordedAt,
        lastNotifiedAt: event.recordedAt,
        ...(d.slack ? { slackChannel: d.slack.channel } : {}),
        paged: d.pager !== undefined,
        ...(d.pager ? { priority: d.pager.priority } : {}),
        rule: d.rule,
        lastInputId: d.inputId,
      };
    }
    case 'IncidentRepeated': {
      if (!state || state.incidentId !== event.data.incidentId) return state;
      return {
        ...state,
        count: event.data.count,
        lastSeenAt: event.recordedAt,
        lastNotifiedAt: event.data.notified ? event.recordedAt : state.lastNotifiedAt,
        lastInputId: event.data.inputId,
      };
    }
    case 'IncidentUpdated': {
      if (!state || state.incidentId !== event.data.incidentId) return state;
      const d = event.data;
      return { ...state, title: d.title, severity: d.severity, labels: d.labels, lastInputId: d.inputId };
    }
    case 'IncidentAcknowledged': {
      if (!state || state.incidentId !== event.data.incidentId || state.status === 'resolved') return state;
      return { ...state, status: 'acknowledged', acknowledgedAt: event.data.acknowledgedAt, lastInputId: event.data.inputId };
    }
    case 'IncidentResolved': {
      if (!state || state.incidentId !== event.data.incidentId) return state;
      return { ...state, status: 'resolved', resolvedAt: event.data.resolvedAt, lastInputId: event.data.inputId };
    }
    case 'EventSuppressed':
      return state ? { ...state, lastInputId: event.data.inputId } : state;
    default:
      return state;
  }
}
