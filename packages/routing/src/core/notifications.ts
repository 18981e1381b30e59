import type { Envelope, NotificationLevel, RuleRef, SlackKeyState } from '@alertbus/schemas';
import type { CompiledRules, CompiledTag } from '../rules/types';
import type { RouterState } from '../state';
import { Outputs } from './outputs';
import { own } from './own';
import { codePoints, escapeMrkdwn, truncate, truncateMrkdwn } from './text';
import { jsonWithoutCredentials, withoutCredentials } from './shown-text';

export type NotificationInput = Envelope<'NotificationRequested'>;
type NotificationState = Extract<SlackKeyState, { kind: 'notification' }>;

/** Attachment colour bar per level (Slack's own good / warning / danger, and a blue for info). */
export const LEVEL_COLOURS: Readonly<Record<NotificationLevel, string>> = {
  info: '#439fe0',
  good: '#2eb886',
  warn: '#daa038',
  crit: '#a30200',
};

const LEVEL_EMOJI: Readonly<Record<NotificationLevel, string>> = {
  info: ':information_source:',
  good: ':white_check_mark:',
  warn: ':warning:',
  crit: ':rotating_light:',
};

/** Slack's limits for what a notification renders into. */
const LIMITS = { fallback: 3000, title: 150, attachmentText: 30_000 } as const;

/** The rule reference of a notification decision: the tag it was sent to, in this version of the rules. */
function tagRule(rules: CompiledRules, tag: string | undefined): RuleRef {
  return { path: tag !== undefined ? `tags.${tag}` : 'notify-directly', rulesVersion: rules.version };
}

/** The tag's channel for the level: its level_channels entry, else its channel. */
export function tagChannel(tag: CompiledTag, level: NotificationLevel): string {
  return tag.levelChannels[level] ?? tag.channel;
}

export interface RenderedNotification {
  /** Absent: the attachments carry everything (Slack then shows their fallback in push notifications). */
  text?: string;
  attachments: unknown[];
}

/**
 * A tag notification as a Slack message: one attachment whose colour is the level, with the title and the
 * text as sent, without credentials, and escaped so a sender's text can never ping anyone or become a link.
 */
export function renderNotification(n: { level: NotificationLevel; title?: string; text: string }): RenderedNotification {
  const title = n.title !== undefined && n.title.trim() !== '' ? truncate(withoutCredentials(n.title.trim()), LIMITS.title) : undefined;
  const text = escapeMrkdwn(withoutCredentials(n.text));
  const fallback = truncateMrkdwn(`${LEVEL_EMOJI[n.level]} ${title !== undefined ? `${escapeMrkdwn(title)}: ` : ''}${text}`, LIMITS.fallback);
  return {
    attachments: [
      {
        color: LEVEL_COLOURS[n.level],
        fallback,
        ...(title !== undefined ? { title: escapeMrkdwn(title) } : {}),
        text: codePoints(text) > LIMITS.attachmentText ? truncateMrkdwn(text, LIMITS.attachmentText) : text,
        mrkdwn_in: ['text'],
      },
    ],
  };
}

/**
 * Decides a notification: resolve its tag to a channel (the level's channel first), post it with the tag's
 * username and icon, and record the decision. Never an incident, never a page. Only a notification with a
 * dedupKey has a key that another can share; a second one under a posted key is recorded as a duplicate.
 * A direct notification is posted as the sender built it, less the credentials in its text. Pure, like every decision.
 */
export function decideNotification(input: NotificationInput, state: RouterState | undefined, rules: CompiledRules): { events: Outputs['events']; state: RouterState | undefined } {
  const out = new Outputs(input);
  const n = input.data;
  const base = { notificationId: n.notificationId, inputId: input.id, level: n.level, ...(n.tag !== undefined ? { tag: n.tag } : {}) };
  const previous = state !== undefined && 'kind' in state && state.kind === 'notification' ? state : undefined;
  if (previous !== undefined) {
    out.add('NotificationRouted', { ...base, reason: 'duplicate', rule: tagRule(rules, n.tag), duplicateOf: previous.inputId });
    return { events: out.events, state };
  }
  let channel: string;
  let reason: 'first-notification' | 'unknown-tag' | 'direct';
  let command: { text?: string; blocks?: unknown[]; attachments?: unknown[]; username?: string; iconEmoji?: string };
  if (n.kind === 'direct') {
    reason = 'direct';
    channel = n.channel ?? rules.defaults.slack.channel;
    command = {
      text: withoutCredentials(n.text),
      ...(n.blocks !== undefined ? { blocks: jsonWithoutCredentials(n.blocks) } : {}),
      ...(n.attachments !== undefined ? { attachments: jsonWithoutCredentials(n.attachments) } : {}),
      ...(n.username !== undefined ? { username: n.username } : {}),
      ...(n.iconEmoji !== undefined ? { iconEmoji: n.iconEmoji } : {}),
    };
  } else {
    // Ingest only accepts known tags; a tag gone by the time the router reads it (a reload in between) still reaches someone.
    const tag = n.tag !== undefined ? own(rules.tags, n.tag) : undefined;
    reason = tag ? 'first-notification' : 'unknown-tag';
    channel = tag ? tagChannel(tag, n.level) : rules.defaults.slack.channel;
    const rendered = renderNotification(n);
    command = {
      ...rendered,
      ...(tag?.username !== undefined ? { username: tag.username } : {}),
      ...(tag?.iconEmoji !== undefined ? { iconEmoji: tag.iconEmoji } : {}),
    };
  }
  const rule = tagRule(rules, n.tag);
  out.add('PostNotification', { notificationId: n.notificationId, rule, channel, ...command });
  out.add('NotificationRouted', { ...base, reason, rule, channel, commandId: out.last.id });
  const next: NotificationState | undefined =
    n.dedupKey !== undefined ? { kind: 'notification', key: input.alias, inputId: input.id, at: input.recordedAt, channel } : undefined;
  return { events: out.events, state: next ?? state };
}
