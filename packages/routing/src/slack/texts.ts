/** What the router says in Slack threads and pager notes about Slack requests: pure text, no rendering state. */
import { PAGER_LIMITS } from '../core/pager';
import { codePoints, escapeMrkdwn, slackUserRef, truncate } from '../core/text';
import { withoutCredentials } from '../core/shown-text';
import { stripLeadingMentions } from './commands';

/** Longest incident title taken from a message (the pager alert's message is cut at 130 anyway). */
export const TITLE_MAX = 120;

/** Who did it, for a thread reply: a Slack user id as a mention, anything else as text. */
export function userRef(user: string | undefined): string {
  return user ? slackUserRef(user) : 'someone';
}

/**
 * What the person wrote, as plain text: without the mentions it starts with, and with Slack's own escapes
 * (`&lt;` `&gt;` `&amp;`, which Slack puts in every message's text) undone, so the title and the pager read
 * "a < b", and whatever shows it in Slack escapes it once, as any other text.
 */
export function requestText(text: string): string {
  return stripLeadingMentions(text).replace(/&(lt|gt|amp);/g, (_, e: string) => (e === 'lt' ? '<' : e === 'gt' ? '>' : '&'));
}

/** The incident title: what the person wrote, without the mention of the app, on one line. */
export function requestTitle(text: string): string {
  const t = requestText(text);
  return t === '' ? 'Slack request' : truncate(t, TITLE_MAX);
}

export function onCallAcknowledgement(schedule: string): string {
  return `Looking for the on-call of *${escapeMrkdwn(schedule)}*…`;
}

export const NO_SCHEDULE_TEXT =
  'I do not know whose on-call to ask: no schedule is configured (a rule\'s `oncall: { schedule: … }`, or ONCALL_SCHEDULE). ' +
  'Try `oncall &lt;schedule&gt;`.';

export function notInThreadText(command: 'ack' | 'resolve'): string {
  return `\`${command}\` works inside an incident's thread: mention me with it there.`;
}

/**
 * `ack <alias>` / `resolve <alias>` mentioned outside that incident's thread: a mention acts on the thread it is
 * in, so it says how to reach the one named instead. The name is not echoed: it is what someone typed.
 */
export function otherIncidentText(command: 'ack' | 'resolve', slash = '/alertbus'): string {
  return (
    `Nothing was done: a mention acts only on the incident of the thread it is in. Use \`${escapeMrkdwn(`${slash} ${command} <alias>`)}\`, ` +
    `or the ${command === 'ack' ? 'Ack' : 'Resolve'} button / \`@alertbus ${command}\` in the incident's thread.`
  );
}

export const NO_INCIDENT_TEXT = 'I know of no incident in this thread, so there is nothing to acknowledge or resolve here.';

/**
 * `ack` / `resolve` typed in a storm summary's thread: the summary stands for many incidents, each with its alias.
 * Names the slash command as configured (SLACK_COMMAND), which is what people must type.
 */
export function stormThreadText(command = '/alertbus'): string {
  return (
    'This thread is an alert storm\'s summary, not one incident, so nothing was acknowledged or resolved. ' +
    `Use \`${escapeMrkdwn(`${command} ack <alias>`)}\` or \`${escapeMrkdwn(`${command} resolve <alias>`)}\` with the alias listed for each incident.`
  );
}

export function acknowledgedText(by: string): string {
  return `Acknowledged by ${userRef(by)}.`;
}

export function resolvedByText(by: string, title: string): string {
  return `Resolved by ${userRef(by)}: ${escapeMrkdwn(truncate(withoutCredentials(title), TITLE_MAX))}`;
}

export function alreadyText(status: 'acknowledged' | 'resolved'): string {
  return status === 'resolved' ? 'This incident is already resolved.' : 'This incident is already acknowledged.';
}

export const OTHER_OCCURRENCE_TEXT = 'That incident is over: this thread belongs to an earlier occurrence of the alert.';

/** Pager alert description for a Slack request: the message, who asked, where, and the link to it. */
/** Who asked, as a person reads it: "Dana Ops (U123)" when ingest learned the name, else the id. */
export function requesterLabel(m: { user?: string; userName?: string; botId?: string }): string {
  const id = m.user ?? m.botId ?? 'unknown';
  return m.userName ? `${m.userName} (${id})` : id;
}

export function requestDescription(
  m: {
    text: string;
    user?: string;
    userName?: string;
    botId?: string;
    channel: string;
    permalink?: string;
  },
  /** What the message becomes where it is shown (the page redacts credentials): applied before the cut, so the cut counts it. */
  shown: (text: string) => string = (text) => text,
): string {
  const about = [`Requested in Slack by ${requesterLabel(m)} in channel ${m.channel}.`];
  if (m.permalink) about.push(`Message: ${m.permalink}`);
  const tail = shown(`\n\n${about.join('\n')}`);
  // The pager takes a description of at most 15,000 characters and Slack allows a message of 40,000: the message is
  // cut to make room for who asked, where and the link, so a long request still pages (whole, it would be refused).
  const text = truncate(shown(requestText(m.text)) || '(no text)', Math.max(1, PAGER_LIMITS.description - codePoints(tail)));
  return truncate(text + tail, PAGER_LIMITS.description);
}

export function editedNote(user: string | undefined, text: string): string {
  return truncate(`The Slack message was edited${user ? ` by ${user}` : ''}. It now says:\n${withoutCredentials(requestText(text)) || '(no text)'}`, 25_000);
}

/** A mention in a request's thread, on the request's pager alert: what was added (credentials redacted) and by whom. */
export function threadNote(user: string | undefined, text: string): string {
  return truncate(`Added in the Slack thread${user ? ` by ${user}` : ''}:\n${withoutCredentials(requestText(text)) || '(no text)'}`, 25_000);
}

/** The answer in the thread to a mention that joined the thread's request instead of opening another. */
export function joinedText(paged: boolean): string {
  return paged ? 'Added to this request and to its pager alert: nobody was paged again.' : 'Added to this request.';
}

export const DELETED_NOTE = 'The Slack message was deleted.';

export function pagerActionNote(action: 'ack' | 'resolve', by: string): string {
  return `${action === 'ack' ? 'Acknowledged' : 'Resolved'} in Slack by ${by}.`;
}
