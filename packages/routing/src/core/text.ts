/** Truncates to at most `max` code points (never splitting a surrogate pair), ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  // A string is never more code points than UTF-16 units: most need no counting at all.
  if (text.length <= max) return text;
  const points = Array.from(text);
  if (points.length <= max) return text;
  const kept = points.slice(0, Math.max(0, max - 1)).join('');
  return `${atGraphemeBoundary(text, kept.length)}…`;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * The text up to `end` (UTF-16 units), backed up to the start of the grapheme cluster `end` falls in: a cut inside
 * 👨‍👩‍👧‍👦 or a flag left another symbol (👨‍👩, a lone 🇩). Only what is cut is segmented, from a little before the cut.
 */
function atGraphemeBoundary(text: string, end: number): string {
  const from = Math.max(0, end - 64);
  let boundary = from;
  for (const { index } of graphemes.segment(text.slice(from, Math.min(text.length, end + 64)))) {
    if (from + index > end) break;
    boundary = from + index;
  }
  // A window that starts inside a cluster may see a false boundary at its start; past 64 units, keep the code points.
  return text.slice(0, boundary === from && from > 0 ? end : boundary);
}

/** Length in code points, as Slack, Opsgenie and JSON Schema's maxLength count. */
export function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n -= 1;
        i += 1;
      }
    }
  }
  return n;
}

const MRKDWN_CONTROL = /[&<>]/;

/**
 * Escapes the three characters Slack treats as control characters in mrkdwn and in a message's top-level
 * `text` (https://docs.slack.dev/messaging/formatting-message-text#escaping): text that is not ours, escaped,
 * can never become a mention (<!channel>, <@U…>) or a link. plain_text objects are not parsed and need none.
 */
export function escapeMrkdwn(text: string): string {
  if (!MRKDWN_CONTROL.test(text)) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Truncates escaped mrkdwn like `truncate`, without leaving half an entity (`&am…`) at the cut. */
export function truncateMrkdwn(text: string, max: number): string {
  const cut = truncate(text, max);
  return cut === text ? cut : cut.replace(/&[a-z]{0,3}…$/, '…');
}

/** Label entries sorted by name, so renderings do not depend on the order a source sent them in. */
export function sortedEntries(labels: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Longest pager user name shown in Slack. */
const PAGER_USER_MAX = 100;

/** "pager-person" as it may be shown in Slack: plain text, never a mention or a link, whatever the pager reported. */
export function pagerUserText(user: string | undefined): string {
  return user ? escapeMrkdwn(truncate(user, PAGER_USER_MAX)) : 'someone';
}

/** A Slack user id as a mention (`<@U123>`); anything else (a name, "unknown") as escaped text. */
export function slackUserRef(user: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(user) ? `<@${user}>` : escapeMrkdwn(user);
}
