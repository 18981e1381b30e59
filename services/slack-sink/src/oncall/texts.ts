/** The words of the on-call replies, pure, so what people read in Slack is decided (and tested) in one place. */
import type { OnCallOutcome, ReplyWithOnCall } from '@alertbus/schemas';

/** What the lookup for a ReplyWithOnCall found, as recorded before the answer is posted. */
export interface OnCallResolution {
  schedule: string;
  outcome: Exclude<OnCallOutcome, 'dry-run'>;
  emails: string[];
  slackUserIds: string[];
  unmatchedEmails: string[];
  cached: boolean;
  error?: string;
  /** last-known: when that answer was found (ISO). */
  knownAt?: string;
}

export const DEFAULT_REPLY_TEMPLATE = 'On call for *{schedule}*: {mentions}';

/** Slack mrkdwn control characters in text that is not ours (schedule names, emails, errors). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Escaped mrkdwn cut to at most `max` code points (a surrogate pair is never split), ending with "…" when cut, and
 * never in the middle of an entity (`&am…`): what escapeMrkdwn made is cut after escaping, so the limit holds.
 */
export function clipMrkdwn(text: string, max: number): string {
  const cut = clipText(text, max);
  return cut === text ? cut : cut.replace(/&[a-z]{0,3}…$/, '…');
}

/** Text cut to at most `max` code points (a surrogate pair is never split), ending with "…" when cut. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** A Slack user id as a mention: the on-call (the point of the reply) and who asked; anything else as escaped text. */
const mention = (userId: string) => (/^[UW][A-Z0-9]{2,}$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId));

export function onCallReplyText(command: Pick<ReplyWithOnCall, 'replyTemplate' | 'requester'>, r: OnCallResolution): string {
  const schedule = escapeMrkdwn(r.schedule);
  const unmatched = r.unmatchedEmails.map(escapeMrkdwn).join(', ');
  switch (r.outcome) {
    case 'mentioned': {
      // One pass, with functions: a value is inserted as it is ("$&" in a schedule name stays "$&"), never re-scanned.
      const values: Record<string, string> = {
        mentions: r.slackUserIds.map(mention).join(' '),
        schedule,
        requester: command.requester ? mention(command.requester) : '',
      };
      const text = (command.replyTemplate ?? DEFAULT_REPLY_TEMPLATE).replace(/\{(mentions|schedule|requester)\}/g, (_, k: string) => values[k]!);
      return unmatched ? `${text}\n(Also on call, without a Slack account for their email: ${unmatched}.)` : text;
    }
    case 'nobody-on-call':
      return `Nobody is on call for *${schedule}* right now.`;
    case 'last-known': {
      const at = r.knownAt ? ` (as of ${escapeMrkdwn(r.knownAt.slice(0, 16).replace('T', ' '))} UTC)` : '';
      const error = clipMrkdwn(escapeMrkdwn(r.error ?? 'unknown error'), 300);
      const text = `I could not find out who is on call for *${schedule}* now (${error}). Last known on call${at}: ${r.slackUserIds.map(mention).join(' ')}`;
      return unmatched ? `${text}\n(Also on call then, without a Slack account for their email: ${unmatched}.)` : text;
    }
    case 'lookup-failed': {
      const who = unmatched ? ` On call according to Opsgenie: ${unmatched}.` : '';
      return `I could not find out who is on call for *${schedule}*: ${clipMrkdwn(escapeMrkdwn(r.error ?? 'unknown error'), 300)}.${who}`;
    }
  }
}

export function cacheClearedText(requestedBy: string, cleared: readonly string[], schedule?: string): string {
  const what = schedule
    ? `The on-call cache of *${escapeMrkdwn(schedule)}* is cleared`
    : `The on-call cache is cleared (${cleared.length} ${cleared.length === 1 ? 'schedule' : 'schedules'})`;
  return `${what}, as ${mention(requestedBy)} asked: the next lookup asks Opsgenie again.`;
}
