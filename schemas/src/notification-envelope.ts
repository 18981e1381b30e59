import { deriveId, makeEnvelope, type Envelope } from './envelope';
import { notificationAlias, type NotificationRequested } from './events/notifications';

/**
 * A NotificationRequested as ingest writes it: the id derived from the request id (a retried request is the
 * same fact), keyed by the notification's alias.
 */
export function notificationRequested(data: Omit<NotificationRequested, 'notificationId'>, recordedAt: string): Envelope<'NotificationRequested'> {
  const notificationId = deriveId('notification', data.requestId);
  const full: NotificationRequested = { notificationId, ...data };
  return makeEnvelope({
    id: notificationId,
    type: 'NotificationRequested',
    alias: notificationAlias(full),
    occurredAt: recordedAt,
    recordedAt,
    source: 'ingest/notify',
    data: full,
  });
}
