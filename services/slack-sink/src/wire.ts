import type { Envelope } from '@alertbus/schemas';

/** Slack message metadata event type that marks a message as the effect of one alertbus command. */
export const COMMAND_EVENT_TYPE = 'alertbus_command';

export interface CommandMetadata {
  event_type: typeof COMMAND_EVENT_TYPE;
  /** `step` names which of a command's several messages this is (e.g. ack / answer of a ReplyWithOnCall). */
  event_payload: { command_id: string; incident_id?: string; step?: string };
}

export interface PostMessageBody {
  channel: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  metadata: CommandMetadata;
  unfurl_links: false;
  unfurl_media: false;
}

export interface UpdateMessageBody {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
}

/** Where an incident's thread lives: the channel ID and the root message's ts. */
export interface ThreadRef {
  channelId: string;
  rootTs: string;
}

export type PostCommand = Envelope<'PostSlackMessage'>;
export type UpdateCommand = Envelope<'UpdateSlackMessage'>;
/** Commands that answer in a given thread of a channel rather than in an incident's thread. */
export type ThreadCommand = Envelope<'ReplyWithOnCall' | 'ClearOnCallCache' | 'PostSlackReply' | 'CallCommandWebhook'>;
/** An answer only one person sees (chat.postEphemeral). */
export type EphemeralCommand = Envelope<'PostSlackEphemeral'>;

export interface PostEphemeralBody {
  channel: string;
  user: string;
  text: string;
  thread_ts?: string;
}

export function ephemeralBody(command: EphemeralCommand): PostEphemeralBody {
  const d = command.data;
  return { channel: d.channel, user: d.user, text: d.text, ...(d.threadTs ? { thread_ts: d.threadTs } : {}) };
}

export function commandMetadata(command: PostCommand): CommandMetadata {
  return {
    event_type: COMMAND_EVENT_TYPE,
    event_payload: { command_id: command.id, incident_id: command.data.incidentId },
  };
}

/** The chat.postMessage body of a root message (channel resolved to an ID when known) or a reply. */
export function postMessageBody(command: PostCommand, channel: string, threadTs?: string): PostMessageBody {
  return {
    channel,
    text: command.data.text,
    ...(command.data.blocks ? { blocks: command.data.blocks } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
    metadata: commandMetadata(command),
    unfurl_links: false,
    unfurl_media: false,
  };
}

export function updateMessageBody(command: UpdateCommand, thread: ThreadRef): UpdateMessageBody {
  return {
    channel: thread.channelId,
    ts: thread.rootTs,
    text: command.data.text,
    ...(command.data.blocks ? { blocks: command.data.blocks } : {}),
  };
}

/** Slack's `oldest`/`latest` format ("<unix seconds>.<6 digits>") for a point in time. */
export function toSlackTs(ms: number): string {
  const whole = Math.floor(ms);
  return `${Math.floor(whole / 1000)}.${String(whole % 1000).padStart(3, '0')}000`;
}

/** What dry-run reports as a message's ts: recognisable, and the same on every re-run of the command. */
export function dryRunTs(commandId: string): string {
  return `dry-run:${commandId}`;
}

/** A message of a thread command (one of its steps), marked with the command id and the step. */
export function threadReplyBody(command: ThreadCommand, step: string, content: { text: string; blocks?: unknown[] }): PostMessageBody {
  const incidentId = 'incidentId' in command.data ? command.data.incidentId : undefined;
  return {
    channel: command.data.channel,
    thread_ts: command.data.threadTs,
    text: content.text,
    ...(content.blocks ? { blocks: content.blocks } : {}),
    metadata: {
      event_type: COMMAND_EVENT_TYPE,
      event_payload: { command_id: command.id, step, ...(incidentId ? { incident_id: incidentId } : {}) },
    },
    unfurl_links: false,
    unfurl_media: false,
  };
}
