/**
 * Pure: one Events API `event_callback` → one SlackMessageReceived (or the reason it is not one). No I/O,
 * no clock; the app's identity and the retry headers are passed in.
 */
import type { SlackMessageKind, SlackMessageReceived } from '@alertbus/schemas';
import { slackPermalink, slackTsToIso, unixSecondsToIso } from './time';
import { withoutVerificationToken, type SlackEventCallbackWire, type SlackInnerEventWire, type SlackMessageWire } from './wire';

/** The app's own identity: what it writes must never come back as input (reply loops). */
export interface BotIdentity {
  userId?: string;
  botId?: string;
  /** https://<workspace>.slack.com/ — for permalinks. */
  workspaceUrl?: string;
}

export interface SlackEventContext {
  identity: BotIdentity;
  retryNum?: number;
  retryReason?: string;
  /** When ingest received the request: eventTime when Slack sent no event_time. */
  recordedAt: string;
}

export type IgnoredReason = 'own-message' | 'unsupported-event' | 'unsupported-subtype';

export type SlackEventResult =
  | { outcome: 'message'; alias: string; occurredAt?: string; data: SlackMessageReceived }
  | { outcome: 'ignored'; reason: IgnoredReason; detail: string }
  | { outcome: 'invalid'; message: string };

/** Plain message subtypes that are a person's (or another bot's) message; joins, topic changes… are not. */
const MESSAGE_SUBTYPES: ReadonlySet<string | undefined> = new Set([
  undefined,
  'thread_broadcast',
  'file_share',
  'bot_message',
  'me_message',
]);

export function slackMessageAlias(team: string, channel: string, ts: string): string {
  return `slack:${team}:${channel}:${ts}`;
}

const ignored = (reason: IgnoredReason, detail: string): SlackEventResult => ({ outcome: 'ignored', reason, detail });
const invalid = (message: string): SlackEventResult => ({ outcome: 'invalid', message });
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** True when the app itself wrote the message: its bot user, its bot id, or its app id (bolt-js ignoreSelf, and more). */
function writtenByApp(m: SlackMessageWire | undefined, identity: BotIdentity, appId: string | undefined): boolean {
  if (!m) return false;
  return (
    (!!identity.userId && m.user === identity.userId) ||
    (!!identity.botId && m.bot_id === identity.botId) ||
    (!!appId && !!m.bot_id && m.app_id === appId)
  );
}

/** The thread's root ts when the message is a reply (a thread parent has thread_ts == ts: not a reply). */
function replyRoot(m: SlackMessageWire | undefined, ts: string): string | undefined {
  const t = str(m?.thread_ts);
  return t && t !== ts ? t : undefined;
}

interface Picked {
  kind: SlackMessageKind;
  /** The message whose content and author the event is about. */
  message: SlackMessageWire | undefined;
  ts: string | undefined;
  text: string;
  previousText?: string;
  /** When the change happened at the source (edits and deletes), else the message's ts. */
  at: string | undefined;
}

/** Which message the inner event is about, by type and subtype; undefined when it is not about a message. */
function pick(e: SlackInnerEventWire): Picked | IgnoredReason {
  if (e.type === 'app_mention') return { kind: 'mention', message: e, ts: e.ts, text: e.text ?? '', at: e.ts };
  if (e.type !== 'message') return 'unsupported-event';
  if (e.subtype === 'message_changed') {
    const m = e.message;
    if (m?.subtype === 'tombstone') {
      // A thread parent deleted: Slack leaves a tombstone (user USLACKBOT) in its place.
      const prev = e.previous_message;
      return { kind: 'delete', message: prev ?? { ...m, user: undefined }, ts: m.ts, text: '', previousText: prev?.text, at: e.event_ts ?? e.ts };
    }
    return { kind: 'edit', message: m, ts: m?.ts, text: m?.text ?? '', previousText: e.previous_message?.text, at: m?.edited?.ts ?? e.event_ts ?? e.ts };
  }
  if (e.subtype === 'message_deleted') {
    const prev = e.previous_message;
    return { kind: 'delete', message: prev, ts: e.deleted_ts ?? prev?.ts, text: '', previousText: prev?.text, at: e.event_ts ?? e.ts };
  }
  if (!MESSAGE_SUBTYPES.has(e.subtype)) return 'unsupported-subtype';
  return { kind: e.channel_type === 'im' ? 'dm' : 'message', message: e, ts: e.ts, text: e.text ?? '', at: e.ts };
}

export function normaliseSlackEvent(body: SlackEventCallbackWire, ctx: SlackEventContext): SlackEventResult {
  const e = body.event;
  if (!e || typeof e !== 'object') return invalid('event_callback without an event object');
  const picked = pick(e);
  if (typeof picked === 'string') {
    return ignored(picked, `${e.type ?? 'unknown'}${e.subtype ? `/${e.subtype}` : ''} is not a message alertbus handles`);
  }
  const { kind, message } = picked;
  // For edits and deletes the author is in the nested message (a deleted own reply is still the app's).
  if (writtenByApp(e, ctx.identity, body.api_app_id) || writtenByApp(message, ctx.identity, body.api_app_id)) {
    return ignored('own-message', `${kind} of a message the app wrote itself`);
  }

  const team = str(body.team_id) ?? str(body.authorizations?.[0]?.team_id);
  const channel = str(e.channel);
  const ts = str(picked.ts);
  const eventId = str(body.event_id);
  if (!team) return invalid('event_callback without team_id');
  if (!channel) return invalid(`${e.type} event without a channel`);
  if (!ts || !/^\d+(\.\d+)?$/.test(ts)) return invalid(`${e.type} event without a valid message ts`);
  if (!eventId) return invalid('event_callback without event_id');
  // Slack sends text as a string (or not at all); anything else is no message anyone wrote.
  if (typeof picked.text !== 'string') return invalid(`${e.type} event whose text is not a string`);
  if (picked.previousText !== undefined && typeof picked.previousText !== 'string') return invalid(`${e.type} event whose previous text is not a string`);

  const threadTs = replyRoot(message, ts);
  const user = str(message?.user);
  const botId = str(message?.bot_id);
  const occurredAt = slackTsToIso(picked.at) ?? slackTsToIso(ts);
  const data: SlackMessageReceived = {
    kind,
    team,
    channel,
    channelType: str(e.channel_type) ?? 'unknown',
    ...(user ? { user } : {}),
    ...(botId ? { botId } : {}),
    text: picked.text,
    ...(picked.previousText !== undefined ? { previousText: picked.previousText } : {}),
    ts,
    ...(threadTs ? { threadTs } : {}),
    eventId,
    eventTime: unixSecondsToIso(body.event_time) ?? ctx.recordedAt,
    ...(str(e.event_ts) ? { eventTs: e.event_ts } : {}),
    ...(ctx.retryNum !== undefined ? { retryNum: ctx.retryNum } : {}),
    ...(ctx.retryReason ? { retryReason: ctx.retryReason } : {}),
    ...(str(body.api_app_id) ? { apiAppId: body.api_app_id } : {}),
    ...(ctx.identity.workspaceUrl ? { permalink: slackPermalink(ctx.identity.workspaceUrl, channel, ts, threadTs) } : {}),
    raw: withoutVerificationToken(body),
  };
  return { outcome: 'message', alias: slackMessageAlias(team, channel, ts), occurredAt, data };
}
