/**
 * What the notification events do to the notifications table. Each of the three events sets its own columns
 * of the notification's row (creating it if needed) and never another's, so the row does not depend on the
 * order the topics were read in, and a redelivered event changes nothing.
 */
import type { AnyEnvelope } from '@alertbus/schemas';

export interface NotificationRow {
  notificationId: string;
  alias: string | null;
  kind: string | null;
  tag: string | null;
  level: string | null;
  title: string | null;
  text: string | null;
  requestedAt: string | null;
  sentBy: string | null;
  reason: string | null;
  channel: string | null;
  commandId: string | null;
  slackChannel: string | null;
  slackTs: string | null;
  deliveredAt: string | null;
}

export type NotificationColumns = Partial<Omit<NotificationRow, 'notificationId'>>;

/** Set these columns of the notification's row (created when absent); a column already set keeps its value. */
export interface NotificationChange {
  kind: 'notification';
  notificationId: string;
  set: NotificationColumns;
}

export function notificationChanges(event: AnyEnvelope): NotificationChange[] {
  switch (event.type) {
    case 'NotificationRequested': {
      const d = event.data;
      return [
        {
          kind: 'notification',
          notificationId: d.notificationId,
          set: {
            alias: event.alias,
            kind: d.kind,
            tag: d.tag ?? null,
            level: d.level,
            title: d.title ?? null,
            text: d.text,
            requestedAt: event.recordedAt,
            sentBy: d.authenticatedAs ?? null,
          },
        },
      ];
    }
    case 'NotificationRouted': {
      const d = event.data;
      return [{ kind: 'notification', notificationId: d.notificationId, set: { reason: d.reason, channel: d.channel ?? null, commandId: d.commandId ?? null } }];
    }
    case 'NotificationPosted': {
      const d = event.data;
      if (d.dryRun) return [];
      return [{ kind: 'notification', notificationId: d.notificationId, set: { slackChannel: d.channel, slackTs: d.ts, deliveredAt: event.recordedAt } }];
    }
    default:
      return [];
  }
}

/** The same semantics on a row in memory (the projection's test double). */
export function mergeNotification(row: NotificationRow | undefined, c: NotificationChange): NotificationRow {
  const base: NotificationRow = row ?? {
    notificationId: c.notificationId,
    alias: null,
    kind: null,
    tag: null,
    level: null,
    title: null,
    text: null,
    requestedAt: null,
    sentBy: null,
    reason: null,
    channel: null,
    commandId: null,
    slackChannel: null,
    slackTs: null,
    deliveredAt: null,
  };
  const next = { ...base };
  for (const [k, v] of Object.entries(c.set) as Array<[keyof NotificationColumns, string | null]>) {
    if (next[k] === null && v !== null && v !== undefined) next[k] = v;
  }
  return next;
}

/** Column of every field; a fixed list, so no event text reaches the SQL. */
const COLUMNS: Record<keyof NotificationColumns, [column: string, cast: string]> = {
  alias: ['alias', ''],
  kind: ['kind', ''],
  tag: ['tag', ''],
  level: ['level', ''],
  title: ['title', ''],
  text: ['text', ''],
  requestedAt: ['requested_at', '::timestamptz'],
  sentBy: ['sent_by', ''],
  reason: ['reason', ''],
  channel: ['channel', ''],
  commandId: ['command_id', ''],
  slackChannel: ['slack_channel', ''],
  slackTs: ['slack_ts', ''],
  deliveredAt: ['delivered_at', '::timestamptz'],
};

/** One upsert: insert the row with these columns, or fill those of them still empty. */
export function notificationSql(c: NotificationChange): { text: string; values: unknown[] } {
  const entries = (Object.entries(c.set) as Array<[keyof NotificationColumns, string | null]>).filter(([, v]) => v !== undefined);
  const values: unknown[] = [c.notificationId, ...entries.map(([, v]) => v)];
  const columns = entries.map(([k]) => COLUMNS[k][0]);
  const placeholders = entries.map(([k], i) => `$${i + 2}${COLUMNS[k][1]}`);
  const updates = columns.map((col) => `${col} = COALESCE(notifications.${col}, EXCLUDED.${col})`);
  return {
    text:
      `INSERT INTO notifications (notification_id${columns.map((col) => `, ${col}`).join('')}) VALUES ($1${placeholders.map((p) => `, ${p}`).join('')}) ` +
      (updates.length > 0 ? `ON CONFLICT (notification_id) DO UPDATE SET ${updates.join(', ')}` : 'ON CONFLICT (notification_id) DO NOTHING'),
    values,
  };
}
