import { INCIDENT_EVENT_TYPES, type AliasState, type AnyEnvelope, type SlackKeyState } from '@alertbus/schemas';
import { liveState } from './expiry';
import { whatItSays, type SuppressedFiring } from './suppressed-firing';

/** The router's state for one alias: nothing yet, or the alias's latest incident. */
export type DeciderState = AliasState | undefined;

/** A resolve kept under an alias that had no incident (its sender's endsAt), so the late firing of what it ended opens nothing. */
export type ResolvedAlias = Extract<SlackKeyState, { kind: 'alert-resolved' }>;


/** A Slack request's message after an update: its new text (an edit), or deleted. */
function slackRequestAfter(r: NonNullable<AliasState['slackRequest']>, changes: Readonly<Record<string, unknown>>): NonNullable<AliasState['slackRequest']> {
  return {
    ...r,
    ...(typeof changes.text === 'string' ? { text: changes.text } : {}),
    ...(changes.deleted === true ? { deleted: true } : {}),
  };
}

/**
 * `{ ...s, ...changes }`: the same keys in the same order, made by Object.assign. Node 20's V8 promotes nearly every
 * object made by a spread followed by more properties (`{ ...s, k: v }`) out of the young generation (a loop of them:
 * 338 MB promoted against 0.1 MB for Object.assign, `--trace-gc-nvp`); for the state each decision makes, that is
 * garbage dying among the packed states a router holds, which keeps its old space twice its live size. For records
 * whose keys the schemas fix (a key named `__proto__` would set the prototype here, where a spread defines it).
 */
export function withChanges<T extends object>(s: T, changes: Partial<T>): T {
  return Object.assign({}, s, changes);
}

export function initialState(): DeciderState {
  return undefined;
}

export function isIncidentEvent(e: AnyEnvelope): boolean {
  return INCIDENT_EVENT_TYPES.has(e.type);
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
        ...(d.values !== undefined ? { values: d.values } : {}),
        labels: d.labels,
        links: d.links,
        openedAt: d.openedAt,
        ...(d.startsAt !== undefined ? { startsAt: d.startsAt } : {}),
        lastSeenAt: event.recordedAt,
        lastNotifiedAt: event.recordedAt,
        ...(d.slack ? { slackChannel: d.slack.channel } : {}),
        ...(d.slack?.mentionOnCall !== undefined ? { mentionOnCall: d.slack.mentionOnCall } : {}),
        paged: d.pager !== undefined,
        ...(d.pager ? { priority: d.pager.priority } : {}),
        ...(d.pager?.alias !== undefined ? { pagerAlias: d.pager.alias } : {}),
        ...(d.slackRequest ? { slackRequest: d.slackRequest } : {}),
        rule: d.rule,
        lastInputId: d.inputId,
      };
    }
    case 'IncidentRepeated': {
      if (!state || state.incidentId !== event.data.incidentId) return state;
      const paged = event.data.pager;
      return withChanges(state, {
        count: event.data.count,
        lastSeenAt: event.recordedAt,
        lastNotifiedAt: event.data.notified ? event.recordedAt : state.lastNotifiedAt,
        ...(paged ? { paged: true, priority: paged.priority, ...(paged.alias !== undefined ? { pagerAlias: paged.alias } : {}) } : {}),
        lastInputId: event.data.inputId,
      });
    }
    case 'IncidentUpdated': {
      if (!state || state.incidentId !== event.data.incidentId) return state;
      const d = event.data;
      return withChanges(state, {
        title: d.title,
        severity: d.severity,
        labels: d.labels,
        ...(state.slackRequest ? { slackRequest: slackRequestAfter(state.slackRequest, d.changes) } : {}),
        lastInputId: d.inputId,
      });
    }
    case 'IncidentAcknowledged': {
      if (!state || state.incidentId !== event.data.incidentId || state.status === 'resolved') return state;
      const d = event.data;
      // Where the acknowledgement came from goes with who made it: a pager's user is a name, not a Slack user id.
      const { acknowledgedIn: _in, ...rest } = state;
      return withChanges(rest, {
        status: 'acknowledged',
        acknowledgedAt: d.acknowledgedAt,
        ...(d.by !== undefined ? { acknowledgedBy: d.by } : {}),
        ...(d.provider !== undefined ? { acknowledgedIn: d.provider } : {}),
        lastInputId: d.inputId,
      });
    }
    case 'IncidentUnacknowledged': {
      if (!state || state.incidentId !== event.data.incidentId || state.status !== 'acknowledged') return state;
      // Open again: who acknowledged, and when, no longer holds.
      const { acknowledgedAt: _at, acknowledgedBy: _by, acknowledgedIn: _in, ...rest } = state;
      return withChanges(rest, { status: 'open', lastInputId: event.data.inputId });
    }
    case 'IncidentResolved': {
      if (!state || state.incidentId !== event.data.incidentId) return state;
      const d = event.data;
      return withChanges(state, {
        status: 'resolved',
        resolvedAt: d.resolvedAt,
        ...(d.by !== undefined ? { resolvedBy: d.by } : {}),
        ...(d.provider !== undefined ? { resolvedIn: d.provider } : {}),
        ...(d.endsAt !== undefined ? { endsAt: d.endsAt } : {}),
        lastInputId: d.inputId,
      });
    }
    case 'EventSuppressed': {
      if (!state) return state;
      const d = event.data;
      // The sender's resolve of an occurrence a person resolved first: its end, for a late copy of its firing.
      if (d.endsAt !== undefined && d.incidentId === state.incidentId && state.status === 'resolved') {
        return withChanges(state, { endsAt: d.endsAt, senderResolvedAt: event.recordedAt, lastInputId: d.inputId });
      }
      const by = d.suppressedBy;
      // Storm control opened the incident without a thread: remember the summary that lists it.
      if (d.reason === 'storm-control' && by?.kind === 'storm' && d.incidentId === state.incidentId) {
        const storm = {
          id: by.summaryIncidentId,
          channel: by.channel,
          since: by.since,
          threshold: by.threshold,
          window: by.window,
          ...(by.pageGrouped ? { pageGrouped: true } : {}),
          ...(by.pageGrouped && by.pagePriority !== undefined ? { pagePriority: by.pagePriority } : {}),
        };
        return withChanges(state, { storm, lastInputId: d.inputId });
      }
      return withChanges(state, { lastInputId: d.inputId });
    }
    default:
      return state;
  }
}

/**
 * The resolve an alias with no incident keeps, from the EventSuppressed that kept it (the sender's endsAt, no incident);
 * undefined for any other event. What evolve is for an incident, so a state rebuilt from incidents.v1 (a backtest's
 * history) has the kept resolves too.
 */
export function keptResolveOf(event: AnyEnvelope): ResolvedAlias | undefined {
  if (event.type !== 'EventSuppressed') return undefined;
  const d = event.data;
  if (d.reason !== 'resolved-without-open-incident' || d.endsAt === undefined || d.incidentId !== undefined) return undefined;
  return { kind: 'alert-resolved', key: event.alias, inputId: d.inputId, at: event.recordedAt, endsAt: d.endsAt };
}

/**
 * The firing an alias keeps as an inhibitor after `event`, from the EventSuppressed that keeps (or refreshes) it, in
 * front of `previous`: what the alias holds otherwise after the event (its resolved incident, or the resolve kept for
 * it). Undefined for any other event. What keptResolveOf is for a kept resolve.
 */
export function keptFiringOf(event: AnyEnvelope, previous: DeciderState | ResolvedAlias): SuppressedFiring | undefined {
  if (event.type !== 'EventSuppressed') return undefined;
  const d = event.data;
  const k = d.kept;
  if (k === undefined || k === false || (d.reason !== 'silenced' && d.reason !== 'dropped-by-rule' && d.reason !== 'inhibited')) return undefined;
  const silenceId = d.suppressedBy?.kind === 'silence' ? d.suppressedBy.silenceId : undefined;
  const inhibition = d.suppressedBy?.kind === 'inhibition' ? d.suppressedBy : undefined;
  return {
    kind: 'alert-suppressed',
    key: event.alias,
    inputId: d.inputId,
    at: event.recordedAt,
    since: k.since,
    ...(k.startsAt !== undefined ? { startsAt: k.startsAt } : {}),
    ...(k.endsAt !== undefined ? { endsAt: k.endsAt } : {}),
    title: d.title ?? '',
    severity: k.severity,
    source: k.source,
    labels: k.labels,
    ...whatItSays(k),
    reason: d.reason,
    ...(silenceId !== undefined ? { silenceId } : {}),
    ...(d.reason === 'dropped-by-rule' ? { dropRule: d.rule.name ?? d.rule.path } : {}),
    ...(inhibition !== undefined ? { inhibitedBy: inhibition.alias, inhibitRule: inhibition.inhibitRule } : {}),
    ...(previous !== undefined ? { previous } : {}),
  };
}

/** Resolves that end what a kept firing stands in for: the ones that do not are the late resolves of an earlier occurrence. */
const RELEASING = new Set(['resolved-without-open-incident', 'already-resolved']);

/**
 * Folds one incident event into what an alert's alias holds: its incident, the resolve kept for it, or a firing kept
 * as an inhibitor in front of either, as the decider left it; with `retentionMs` (ROUTER_STATE_RETENTION), what had
 * expired by the event counts as absent, as it did for the decision. So everything an alert's alias holds can be
 * rebuilt from incidents.v1 (a backtest's state before its window), not only its incident.
 */
export function evolveAlert(before: AlertHeld, event: AnyEnvelope, retentionMs?: number): AlertHeld {
  if (!isIncidentEvent(event)) return before;
  const resolve = keptResolveOf(event);
  if (resolve) return resolve;
  if (event.type !== 'EventSuppressed' || event.data.inputType !== 'AlertReceived') {
    // An opening replaces whatever the alias held; anything else changes only an incident (a person's click on an alias
    // that holds none leaves it as it is).
    if (event.type === 'IncidentOpened' || event.type === 'IncidentReopened' || incidentOf(before) !== undefined) return evolve(incidentOf(before), event);
    return before;
  }
  const atMs = Date.parse(event.recordedAt);
  const live = liveState(before, atMs, retentionMs);
  const firing = live !== undefined && 'kind' in live && live.kind === 'alert-suppressed' ? live : undefined;
  const held = firing ? liveState(firing.previous, atMs, retentionMs) : live;
  const next = evolve(incidentOf(held), event) ?? (held !== undefined && 'kind' in held && held.kind === 'alert-resolved' ? held : undefined);
  const refreshed = keptFiringOf(event, next);
  if (refreshed) return refreshed;
  if (firing === undefined || event.data.kept === false || RELEASING.has(event.data.reason)) return next;
  // Still kept as it was (its late copies, a late resolve of an earlier occurrence), its alias's state updated.
  const { previous: _, ...rest } = firing;
  return next === undefined ? rest : { ...rest, previous: next };
}

/** What an alert's alias holds (the decider's AlertState). */
export type AlertHeld = DeciderState | ResolvedAlias | SuppressedFiring;

const incidentOf = (s: AlertHeld): DeciderState => (s !== undefined && !('kind' in s) ? s : undefined);
