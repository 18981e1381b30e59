/** Truncates to at most `max` code points (never splitting a surrogate pair), ending with "…" when cut. */
export function truncate(text: string, max: number): string {
  const points = Array.from(text);
  if (points.length <= max) return text;
  return `${points.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Length in code points, as Slack, Opsgenie and JSON Schema's maxLength count. */
export function codePoints(text: string): number {
  return Array.from(text).length;
}

/**
 * Escapes the three characters Slack treats as control characters in mrkdwn and in a message's top-level
 * `text` (https://docs.slack.dev/messaging/formatting-message-text#escaping): text that is not ours, escaped,
 * can never become a mention (<!channel>, <@U…>) or a link. plain_text objects are not parsed and need none.
 */
export function escapeMrkdwn(text: string): string {
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

/** A Slack user id as a mention (`<@U123>`); anything else (a name, "unknown") as escaped text. */
export function slackUserRef(user: string): string {
  return /^[UW][A-Z0-9]{2,}$/.test(user) ? `<@${user}>` : escapeMrkdwn(user);
}
