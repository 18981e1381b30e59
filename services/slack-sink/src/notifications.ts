import { DeliveryError, type Logger, type RetryPolicy } from '@alertbus/common';
import { throwWhileSettling, type DeliveryOutcome, type SettleWindow } from '@alertbus/sink-runtime';
import type { Envelope } from '@alertbus/schemas';
import { postToNamedChannel, type SlackClient } from './client';
import { DEFAULT_POST_SETTLE, lookUpOrThrow, reconcileWindow } from './reconcile';
import { COMMAND_EVENT_TYPE, dryRunTs, type CommandMetadata, type PostMessageBody } from './wire';

export type NotificationCommand = Envelope<'PostNotification'>;

export const NOTIFICATION_COMMAND_TYPES: ReadonlySet<string> = new Set(['PostNotification']);

/** chat.postMessage of a notification: a message of its own in the channel, with the tag's name and icon. */
export interface NotificationBody {
  channel: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  username?: string;
  icon_emoji?: string;
  metadata: CommandMetadata;
  unfurl_links: false;
  unfurl_media: false;
}

export function notificationBody(command: NotificationCommand, channel: string): NotificationBody {
  const d = command.data;
  return {
    channel,
    ...(d.text !== undefined ? { text: d.text } : {}),
    ...(d.blocks !== undefined ? { blocks: d.blocks } : {}),
    ...(d.attachments !== undefined ? { attachments: d.attachments } : {}),
    ...(d.username !== undefined ? { username: d.username } : {}),
    ...(d.iconEmoji !== undefined ? { icon_emoji: d.iconEmoji } : {}),
    metadata: { event_type: COMMAND_EVENT_TYPE, event_payload: { command_id: command.id } },
    unfurl_links: false,
    unfurl_media: false,
  };
}

const posted = (command: NotificationCommand, channel: string, ts: string, request?: { method: string; body: unknown }): DeliveryOutcome => ({
  type: 'NotificationPosted',
  data: { notificationId: command.data.notificationId, channel, ts, ...(request ? { request } : {}) },
});

/**
 * Executes PostNotification: one chat.postMessage, marked with the command id like every message the sink
 * posts, so a restarted sink that finds it in the channel does not post it again.
 */
export class NotificationPoster {
  constructor(private readonly deps: { client?: SlackClient; log: Logger; lookupRetry?: RetryPolicy; settle?: SettleWindow }) {}

  async execute(command: NotificationCommand): Promise<DeliveryOutcome> {
    const client = this.deps.client;
    if (!client) throw new DeliveryError('no Slack token configured', true);
    // The body differs from an incident post only in fields the Web API client passes through as they are.
    const res = await postToNamedChannel(client, command.data.channel, (channel) =>
      client.postMessage(notificationBody(command, channel) as unknown as PostMessageBody),
    );
    return posted(command, res.channel, res.ts);
  }

  /**
   * Looks for the notification in the channel by its command id; throws while Slack does not answer (see lookUpOrThrow)
   * and while one not found may still be posted by the attempt (see postSettleWindow).
   */
  async reconcile(command: NotificationCommand, startedAt: Date): Promise<DeliveryOutcome | undefined> {
    const client = this.deps.client;
    if (!client) return undefined;
    const ctx = { policy: this.deps.lookupRetry, log: this.deps.log, commandId: command.id, what: 'an earlier run of the notification', startedAt };
    const channel = await lookUpOrThrow(() => client.resolveChannel(command.data.channel), ctx);
    if (!channel?.value) return undefined; // a name Slack resolves itself cannot be searched; post again
    const found = await lookUpOrThrow(() => client.findCommandMessage({ channel: channel.value!, ...reconcileWindow(startedAt), commandId: command.id }), ctx);
    if (found?.value) return posted(command, found.value.channel, found.value.ts);
    if (found) throwWhileSettling(startedAt, this.deps.settle ?? DEFAULT_POST_SETTLE, `no notification of command ${command.id} in ${channel.value}`);
    return undefined;
  }

  dryRun(command: NotificationCommand): DeliveryOutcome {
    const body = notificationBody(command, command.data.channel);
    return posted(command, command.data.channel, dryRunTs(command.id), { method: 'chat.postMessage', body });
  }
}
