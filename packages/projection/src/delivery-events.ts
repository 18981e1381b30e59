/** What each sink result (deliveries.v1) records, and which ones tie the incident to its Slack thread or pager alert. */
import type { AnyEnvelope, Envelope } from '@alertbus/schemas';
import type { DeliveryRow, IncidentChange, Position } from './types';

export type DeliveryEventType =
  | 'SlackMessagePosted'
  | 'SlackMessageUpdated'
  | 'PagerAlertCreated'
  | 'PagerAlertClosed'
  | 'PagerAlertAcknowledged'
  | 'PagerNoteAdded'
  | 'DeliveryFailed';

export const DELIVERY_EVENT_TYPES: ReadonlySet<string> = new Set<DeliveryEventType>([
  'SlackMessagePosted',
  'SlackMessageUpdated',
  'PagerAlertCreated',
  'PagerAlertClosed',
  'PagerAlertAcknowledged',
  'PagerNoteAdded',
  'DeliveryFailed',
]);

const EMPTY = {
  error: null,
  httpStatus: null,
  permanent: null,
  slackChannel: null,
  slackTs: null,
  slackThreadTs: null,
  slackPurpose: null,
  pagerProvider: null,
  pagerAlertId: null,
  pagerRequestId: null,
  request: null,
} as const;

export function deliveryRow(event: Envelope<DeliveryEventType>, at: Position): DeliveryRow {
  // The position's fields one by one, not spread: a spread that adds fields to an object is slow here.
  const base = {
    ...EMPTY,
    topic: at.topic,
    partition: at.partition,
    offset: at.offset,
    eventId: event.id,
    type: event.type,
    recordedAt: event.recordedAt,
  };
  switch (event.type) {
    case 'SlackMessagePosted':
    case 'SlackMessageUpdated': {
      const d = event.data;
      return {
        ...base,
        commandId: d.commandId,
        commandType: d.commandType,
        incidentId: d.incidentId,
        target: 'slack',
        dryRun: d.dryRun,
        ok: true,
        attempts: d.attempts,
        slackChannel: d.channel,
        slackTs: d.ts,
        slackThreadTs: d.threadTs ?? null,
        slackPurpose: d.purpose ?? null,
        request: d.request ?? null,
      };
    }
    case 'PagerAlertCreated':
    case 'PagerAlertClosed':
    case 'PagerAlertAcknowledged':
    case 'PagerNoteAdded': {
      const d = event.data;
      return {
        ...base,
        commandId: d.commandId,
        commandType: d.commandType,
        incidentId: d.incidentId,
        target: 'pager',
        dryRun: d.dryRun,
        ok: true,
        attempts: d.attempts,
        pagerProvider: d.provider,
        pagerAlertId: d.alertId ?? null,
        pagerRequestId: d.requestId ?? null,
        request: d.request ?? null,
      };
    }
    case 'DeliveryFailed': {
      const d = event.data;
      return {
        ...base,
        commandId: d.commandId,
        commandType: d.commandType,
        incidentId: d.incidentId ?? null,
        target: d.target,
        dryRun: false,
        ok: false,
        attempts: d.attempts,
        error: d.error,
        httpStatus: d.httpStatus ?? null,
        permanent: d.permanent,
      };
    }
  }
}

/**
 * A sink result of a type this file does not know (e.g. the on-call replies of the Slack work), recognised by
 * the fields every delivery result carries: commandId, commandType, dryRun, attempts, and a Slack channel or
 * a pager provider. Null for anything else.
 */
export function genericDeliveryRow(event: AnyEnvelope, at: Position): DeliveryRow | null {
  if (typeof event.data !== 'object' || event.data === null) return null;
  const d = event.data as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  if (typeof d.commandId !== 'string' || typeof d.commandType !== 'string') return null;
  if (typeof d.dryRun !== 'boolean' || !Number.isInteger(d.attempts)) return null;
  const target = typeof d.channel === 'string' ? 'slack' : typeof d.provider === 'string' ? 'pager' : null;
  if (target === null) return null;
  return {
    ...EMPTY,
    topic: at.topic,
    partition: at.partition,
    offset: at.offset,
    eventId: event.id,
    type: event.type,
    recordedAt: event.recordedAt,
    commandId: d.commandId,
    commandType: d.commandType,
    incidentId: text(d.incidentId),
    target,
    dryRun: d.dryRun,
    ok: true,
    attempts: d.attempts as number,
    error: text(d.error),
    slackChannel: text(d.channel),
    slackTs: text(d.ts),
    slackThreadTs: text(d.threadTs),
    pagerProvider: text(d.provider),
    pagerAlertId: text(d.alertId),
    pagerRequestId: text(d.requestId),
    request: d.request ?? null,
  };
}

/** Only the first root post and the created pager alert say something about the incident itself. */
export function deliveryChanges(event: Envelope<DeliveryEventType>): IncidentChange[] {
  if (event.type === 'SlackMessagePosted' && event.data.purpose === 'root') {
    const { incidentId, channel, ts } = event.data;
    return [{ kind: 'link-slack-root', incidentId, channel, ts, at: event.recordedAt }];
  }
  if (event.type === 'PagerAlertCreated' && event.data.alertId !== undefined) {
    return [{ kind: 'link-pager-alert', incidentId: event.data.incidentId, alertId: event.data.alertId, at: event.recordedAt }];
  }
  return [];
}

/** Adoption rule shared by both stores: the earliest (by position) successful root post of the incident. */
export function isRootPost(row: DeliveryRow): boolean {
  return row.type === 'SlackMessagePosted' && row.slackPurpose === 'root' && row.slackTs !== null;
}

export function isCreatedPagerAlert(row: DeliveryRow): boolean {
  return row.type === 'PagerAlertCreated' && row.pagerAlertId !== null;
}
