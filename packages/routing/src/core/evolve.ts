import { INCIDENT_EVENT_TYPES, type AliasState, type AnyEnvelope, type SlackKeyState } from '@alertbus/schemas';

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
      return withChanges(state, { status: 'acknowledged', acknowledgedAt: d.acknowledgedAt, ...(d.by !== undefined ? { acknowledgedBy: d.by } : {}), lastInputId: d.inputId });
    }
    case 'IncidentResolved': {
      if (!state || state.incidentId !== event.data.incidentId) return state;
      const d = event.data;
      return withChanges(state, {
        status: 'resolved',
        resolvedAt: d.resolvedAt,
        ...(d.by !== undefined ? { resolvedBy: d.by } : {}),
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
