/**
 * What a message built by its sender (POST /notify-directly) may not do: notify a whole channel or a user group.
 * Slack does that only for the special sequences `<!channel>`, `<!here>`, `<!everyone>`, `<!group>` (the old name
 * of `<!channel>`) and `<!subteam^ID>`; a plain "@channel" notifies nobody, as messages are posted without
 * `link_names`. Their `<` is written `&lt;`, so Slack shows the sequence as written and notifies nobody; mentions
 * of one person (`<@U…>`) and links stay as sent. In a rich_text block the same pings are elements of their own
 * (`broadcast`, `usergroup`), which become the text they stand for; `user` elements, one person, stay as sent.
 */

/** The `<` of a broadcast or user-group mention; a fixed lookahead, linear in the text. */
const BROADCAST_OPENING = /<(?=!(?:channel|here|everyone|group|subteam\^))/gi;

/** mrkdwn with its broadcast and user-group mentions shown as written instead of notifying. */
export function withoutBroadcasts(text: string): string {
  return text.replace(BROADCAST_OPENING, '&lt;');
}

/** What a rich_text element that notifies is shown as instead: `@channel`, `@here`, `@everyone`, `@S0SRE`. */
function pingAsText(element: Record<string, unknown>): string | null {
  const named = (v: unknown, otherwise: string) => (typeof v === 'string' && v !== '' ? v : otherwise);
  if (element.type === 'broadcast') return `@${named(element.range, 'channel')}`;
  if (element.type === 'usergroup') return `@${named(element.usergroup_id, 'usergroup')}`;
  return null;
}

/** Keys a Block Kit plain_text object has: https://api.slack.com/reference/block-kit/composition-objects#text */
const PLAIN_TEXT_KEYS = new Set(['type', 'text', 'emoji', 'verbatim']);

/**
 * A Block Kit plain_text object and nothing more: Slack shows its text as written. Any other object that says
 * `"type": "plain_text"` (a section with blocks inside) is walked like the rest: its text and what it holds were kept
 * unescaped, `<!channel>` and all.
 */
function isPlainTextObject(o: Record<string, unknown>): boolean {
  return o.type === 'plain_text' && typeof o.text === 'string' && Object.keys(o).every((k) => PLAIN_TEXT_KEYS.has(k));
}

/**
 * Blocks or attachments with every mrkdwn string passed through withoutBroadcasts and every rich_text broadcast or
 * user-group element, at any depth, made a text element showing what was written (its style kept). plain_text
 * objects, which Slack shows as written and never parses, are kept as they are only in Block Kit (`blocks`, and the
 * `blocks` of an attachment): an attachment is never a text object, Slack reads its `text` as mrkdwn whatever its
 * `type` says, so outside blocks every string is escaped.
 */
export function structureWithoutBroadcasts(value: unknown, as: 'blocks' | 'attachments'): unknown {
  return walk(value, as === 'blocks');
}

function walk(value: unknown, inBlockKit: boolean): unknown {
  if (typeof value === 'string') return withoutBroadcasts(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, inBlockKit));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if (inBlockKit && isPlainTextObject(o)) return value;
  const shown = pingAsText(o);
  if (shown !== null) {
    const style = o.style !== null && typeof o.style === 'object' && !Array.isArray(o.style) ? { style: o.style } : {};
    return { type: 'text', text: withoutBroadcasts(shown), ...style };
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, walk(v, inBlockKit || k === 'blocks')]));
}
