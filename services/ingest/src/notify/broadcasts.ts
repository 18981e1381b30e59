/**
 * What a message built by its sender (POST /notify-directly) may not do: notify a whole channel or a user group.
 * Slack does that only for the special sequences `<!channel>`, `<!here>`, `<!everyone>`, `<!group>` (the old name
 * of `<!channel>`) and `<!subteam^ID>`; a plain "@channel" notifies nobody, as messages are posted without
 * `link_names`. Their `<` is written `&lt;`, so Slack shows the sequence as written and notifies nobody; mentions
 * of one person (`<@U…>`) and links stay as sent.
 */

/** The `<` of a broadcast or user-group mention; a fixed lookahead, linear in the text. */
const BROADCAST_OPENING = /<(?=!(?:channel|here|everyone|group|subteam\^))/gi;

/** mrkdwn with its broadcast and user-group mentions shown as written instead of notifying. */
export function withoutBroadcasts(text: string): string {
  return text.replace(BROADCAST_OPENING, '&lt;');
}

/**
 * Blocks or attachments with every mrkdwn string passed through withoutBroadcasts; plain_text objects, which
 * Slack shows as written and never parses, are kept as they are.
 */
export function structureWithoutBroadcasts(value: unknown): unknown {
  if (typeof value === 'string') return withoutBroadcasts(value);
  if (Array.isArray(value)) return value.map(structureWithoutBroadcasts);
  if (value === null || typeof value !== 'object') return value;
  if ((value as { type?: unknown }).type === 'plain_text') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structureWithoutBroadcasts(v)]));
}
