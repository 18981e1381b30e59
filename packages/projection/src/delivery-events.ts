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
  | 'PagerPriorityUpdated'
  | 'DeliveryFailed';

export const DELIVERY_EVENT_TYPES: ReadonlySet<string> = new Set<DeliveryEventType>([
  'SlackMessagePosted',
  'SlackMessageUpdated',
  'PagerAlertCreated',
  'PagerAlertClosed',
  'PagerAlertAcknowledged',
  'PagerNoteAdded',
  'PagerPriorityUpdated',
  'DeliveryFailed',
]);

/** What every sink result says about the command it executed. */
interface CommandFields {
  commandId: string;
  commandType: string;
  attempts: number;
  dryRun?: boolean;
}

/**
 * A row with every column in one order, the event's and its command's filled and the rest empty, for the caller to
 * fill in place: every row then has one shape, and no spread copies a partial row into a larger one (a spread
 * followed by more fields was the projection's costliest line per delivery in a CPU profile, bench/README.md).
 */
function rowOf(event: AnyEnvelope, at: Position, d: CommandFields, target: 'slack' | 'pager', incidentId: string | null): DeliveryRow {
  return {
    topic: at.topic,
    partition: at.partition,
    offset: at.offset,
    eventId: event.id,
    commandId: d.commandId,
    commandType: d.commandType,
    incidentId,
    type: event.type,
    target,
    dryRun: d.dryRun ?? false,
    ok: true,
    error: null,
    httpStatus: null,
    permanent: null,
    attempts: d.attempts,
    slackChannel: null,
    slackTs: null,
    slackThreadTs: null,
    slackPurpose: null,
    pagerProvider: null,
    pagerAlertId: null,
    pagerRequestId: null,
    request: null,
    recordedAt: event.recordedAt,
  };
}

export function deliveryRow(event: Envelope<DeliveryEventType>, at: Position): DeliveryRow {
  switch (event.type) {
    case 'SlackMessagePosted':
    case 'SlackMessageUpdated': {
      const d = event.data;
      const row = rowOf(event, at, d, 'slack', d.incidentId);
      row.slackChannel = d.channel;
      row.slackTs = d.ts;
      row.slackThreadTs = d.threadTs ?? null;
      row.slackPurpose = d.purpose ?? null;
      row.request = d.request ?? null;
      return row;
    }
    case 'PagerAlertCreated':
    case 'PagerAlertClosed':
    case 'PagerAlertAcknowledged':
    case 'PagerNoteAdded':
    case 'PagerPriorityUpdated': {
      const d = event.data;
      const row = rowOf(event, at, d, 'pager', d.incidentId);
      row.pagerProvider = d.provider;
      row.pagerAlertId = d.alertId ?? null;
      row.pagerRequestId = d.requestId ?? null;
      row.request = d.request ?? null;
      return row;
    }
    case 'DeliveryFailed': {
      const d = event.data;
      // A failure executed nothing: never a dry run.
      const row = rowOf(event, at, { commandId: d.commandId, commandType: d.commandType, attempts: d.attempts }, d.target, d.incidentId ?? null);
      row.ok = false;
      row.error = d.error;
      row.httpStatus = d.httpStatus ?? null;
      row.permanent = d.permanent;
      return row;
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
  const row = rowOf(event, at, { commandId: d.commandId, commandType: d.commandType, attempts: d.attempts as number, dryRun: d.dryRun }, target, text(d.incidentId));
  row.error = text(d.error);
  row.slackChannel = text(d.channel);
  row.slackTs = text(d.ts);
  row.slackThreadTs = text(d.threadTs);
  row.pagerProvider = text(d.provider);
  row.pagerAlertId = text(d.alertId);
  row.pagerRequestId = text(d.requestId);
  row.request = d.request ?? null;
  return row;
}

/**
 * How the key of a storm summary's commands (and so of their results) begins: the router's `storm:{channel}:{since}`
 * (packages/routing core/storm.ts). A storm has no incident row of its own; its summary and page are its members'.
 */
export const STORM_ALIAS_PREFIX = 'storm:';

/** Only the first root post and the created pager alert say something about the incident itself (or a storm's members). */
export function deliveryChanges(event: Envelope<DeliveryEventType>): IncidentChange[] {
  const storm = event.alias.startsWith(STORM_ALIAS_PREFIX);
  if (event.type === 'SlackMessagePosted' && event.data.purpose === 'root') {
    const { incidentId, channel, ts } = event.data;
    if (storm) return [{ kind: 'link-storm-slack', stormId: incidentId, channel, ts, at: event.recordedAt }];
    return [{ kind: 'link-slack-root', incidentId, channel, ts, at: event.recordedAt }];
  }
  if (event.type === 'PagerAlertCreated' && event.data.alertId !== undefined) {
    if (storm) return [{ kind: 'link-storm-pager', stormId: event.data.incidentId, alertId: event.data.alertId, at: event.recordedAt }];
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
