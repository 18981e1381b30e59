import { INCIDENT_EVENT_TYPES, type AliasState, type AnyEnvelope } from '@alertbus/schemas';

/** The router's state for one alias: nothing yet, or the alias's latest incident. */
export type DeciderState = AliasState | undefined;


/** A Slack request's message after an update: its new text (an edit), or deleted. */
function slackRequestAfter(r: NonNullable<AliasState['slackRequest']>, changes: Readonly<Record<string, unknown>>): NonNullable<AliasState['slackRequest']> {
  return {
    ...r,
    ...(typeof changes.text === 'string' ? { text: changes.text } : {}),
    ...(changes.deleted === true ? { deleted: true } : {}),
  };
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
      return {
        ...state,
        title: d.title,
        severity: d.severity,
        labels: d.labels,
        ...(state.slackRequest ? { slackRequest: slackRequestAfter(state.slackRequest, d.changes) } : {}),
        lastInputId: d.inputId,
      };
    }
    case 'IncidentAcknowledged': {
      if (!state || state.incidentId !== event.data.incidentId || state.status === 'resolved') return state;
      const d = event.data;
      return { ...state, status: 'acknowledged', acknowledgedAt: d.acknowledgedAt, ...(d.by !== undefined ? { acknowledgedBy: d.by } : {}), lastInputId: d.inputId };
    }
    case 'IncidentResolved': {
      if (!state || state.incidentId !== event.data.incidentId) return state;
      const d = event.data;
      return { ...state, status: 'resolved', resolvedAt: d.resolvedAt, ...(d.by !== undefined ? { resolvedBy: d.by } : {}), lastInputId: d.inputId };
    }
    case 'EventSuppressed': {
      if (!state) return state;
      const d = event.data;
      const by = d.suppressedBy;
      // Storm control opened the incident without a thread: remember the summary that lists it.
      if (d.reason === 'storm-control' && by?.kind === 'storm' && d.incidentId === state.incidentId) {
        const storm = { id: by.summaryIncidentId, channel: by.channel, since: by.since, threshold: by.threshold, window: by.window };
        return { ...state, storm: by.pageGrouped ? { ...storm, pageGrouped: true } : storm, lastInputId: d.inputId };
      }
      return { ...state, lastInputId: d.inputId };
    }
    default:
      return state;
  }
}
