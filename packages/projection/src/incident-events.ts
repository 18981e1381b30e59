/** What each router decision (incidents.v1) does to the incidents table; the router's status and count are taken as given. */
import type { Envelope, Link } from '@alertbus/schemas';
import { senderEnd, senderStart } from './sender-times';
import type { IncidentChange, IncidentUpdate } from './types';

export type IncidentEventType =
  | 'IncidentOpened'
  | 'IncidentReopened'
  | 'IncidentRepeated'
  | 'IncidentUpdated'
  | 'IncidentAcknowledged'
  | 'IncidentUnacknowledged'
  | 'IncidentResolved'
  | 'EventSuppressed';

export { INCIDENT_EVENT_TYPES } from '@alertbus/schemas';

type Lifecycle = Exclude<IncidentEventType, 'EventSuppressed' | 'IncidentOpened' | 'IncidentReopened'>;

export function incidentChanges(event: Envelope<IncidentEventType>): IncidentChange[] {
  switch (event.type) {
    case 'IncidentOpened':
    case 'IncidentReopened':
      return [opened(event)];
    case 'IncidentRepeated':
      // A repeat that paged an incident opened without a page (its alert now routes to one) gives it its priority.
      return [update(event, event.data.pager ? { pagerPriority: event.data.pager.priority } : {})];
    case 'IncidentUpdated':
      return [update(event, updatedColumns(event))];
    case 'IncidentAcknowledged': {
      // In a pager: `by` is the pager's username, which a reader must not take for a Slack user id.
      const who = { acknowledgedBy: event.data.by ?? null, acknowledgedByName: event.data.byName ?? null, acknowledgedIn: event.data.provider ?? null };
      return [update(event, { acknowledgedAt: event.data.acknowledgedAt, ...who })];
    }
    case 'IncidentUnacknowledged':
      // Open again: the acknowledgement it took back is no longer the incident's (its entry stays in the timeline).
      return [update(event, { acknowledgedAt: null, acknowledgedBy: null, acknowledgedByName: null, acknowledgedIn: null })];
    case 'IncidentResolved': {
      // Only a source's resolve carries the sender's endsAt; a person's leaves ended_at null.
      const endedAt = senderEnd(event.data.endsAt, event.data.resolvedAt);
      const who = { resolvedBy: event.data.by ?? null, resolvedByName: event.data.byName ?? null, resolvedIn: event.data.provider ?? null };
      return [update(event, { resolvedAt: event.data.resolvedAt, ...who, ...(endedAt !== undefined ? { endedAt } : {}) })];
    }
    case 'EventSuppressed': {
      // Storm control opened the incident without a thread or a page of its own: it lives in the storm's summary and page.
      const by = event.data.suppressedBy;
      if (by?.kind === 'storm' && event.data.incidentId !== undefined) {
        return [{ kind: 'join-storm', incidentId: event.data.incidentId, stormId: by.summaryIncidentId, channel: by.channel, grouped: by.pageGrouped === true, at: event.recordedAt }];
      }
      return []; // a timeline entry only: the incident, if any, did not change
    }
  }
}

function opened(event: Envelope<'IncidentOpened' | 'IncidentReopened'>): IncidentChange {
  const d = event.data;
  // A Slack request has no root post of ours: its thread is the requester's (their message, or the thread they asked in).
  const request = d.slackRequest;
  return {
    kind: 'open-incident',
    row: {
      incidentId: d.incidentId,
      alias: event.alias,
      occurrence: d.occurrence,
      previousIncidentId: d.previousIncidentId ?? null,
      title: d.title,
      severity: d.severity,
      source: d.source,
      status: d.status,
      labels: d.labels,
      description: d.description ?? null,
      links: d.links,
      count: d.count,
      openedAt: d.openedAt,
      startedAt: senderStart(d.startsAt, d.openedAt),
      acknowledgedAt: null,
      acknowledgedBy: null,
      acknowledgedByName: null,
      acknowledgedIn: null,
      resolvedAt: null,
      resolvedBy: null,
      resolvedByName: null,
      resolvedIn: null,
      endedAt: null,
      // The channel the rule chose; replaced by the channel Slack reports once the root message is posted.
      slackChannel: d.slack?.channel ?? request?.channel ?? null,
      slackTargetChannel: d.slack?.channel ?? request?.channel ?? null,
      slackRootTs: d.slack ? null : (request?.threadTs ?? null),
      pagerAlertId: null,
      pagerPriority: d.pager?.priority ?? null,
      // A storm member's summary and page come with its EventSuppressed (join-storm) and the storm's deliveries.
      stormIncidentId: null,
      stormSlackTs: null,
      stormPagerAlertId: null,
      rule: d.rule,
      lastEventAt: event.occurredAt,
      updatedAt: event.recordedAt,
    },
  };
}

/** Every lifecycle event carries the incident's status and count after the decision. */
function update(event: Envelope<Lifecycle>, extra: IncidentUpdate): IncidentChange {
  return {
    kind: 'update-incident',
    incidentId: event.data.incidentId,
    set: { status: event.data.status, count: event.data.count, lastEventAt: event.occurredAt, ...extra },
    at: event.recordedAt,
  };
}

/** IncidentUpdated: the describing fields after the change, plus description/links when `changes` carries them. */
function updatedColumns(event: Envelope<'IncidentUpdated'>): IncidentUpdate {
  const { title, severity, labels, changes } = event.data;
  const set: IncidentUpdate = { title, severity, labels };
  if (typeof changes.description === 'string') set.description = changes.description;
  if (isLinkList(changes.links)) set.links = changes.links;
  return set;
}

function isLinkList(value: unknown): value is Link[] {
  return (
    Array.isArray(value) &&
    value.every(
      (l) => typeof l === 'object' && l !== null && typeof l.title === 'string' && typeof l.url === 'string',
    )
  );
}
