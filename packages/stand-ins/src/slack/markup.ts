/**
 * How Slack reads a message (https://docs.slack.dev/messaging/formatting-message-text): the special `<…>`
 * sequences of its top-level `text`, of every mrkdwn text object in its blocks and of its attachments, the
 * mention elements of its rich_text blocks, and which of them notify people. plain_text objects are shown as written and never parsed. Tests use it to
 * say what a message the stand-in received would do in a real workspace: who it pings, where it links.
 */

export type SlackMarkupToken =
  | { kind: 'broadcast'; target: 'channel' | 'here' | 'everyone'; raw: string }
  | { kind: 'usergroup'; id: string; raw: string }
  | { kind: 'user'; id: string; raw: string }
  | { kind: 'channel'; id: string; raw: string }
  | { kind: 'link'; url: string; label?: string; raw: string }
  | { kind: 'other'; raw: string };

/** The special sequences of one mrkdwn string, in order. Text outside `<…>` is shown as is (entities decoded). */
export function parseMarkup(text: string): SlackMarkupToken[] {
  const out: SlackMarkupToken[] = [];
  let at = text.indexOf('<');
  while (at !== -1) {
    const end = text.indexOf('>', at + 1);
    if (end === -1) break;
    const raw = text.slice(at, end + 1);
    const inner = text.slice(at + 1, end);
    const bar = inner.indexOf('|');
    const target = bar === -1 ? inner : inner.slice(0, bar);
    const label = bar === -1 ? undefined : inner.slice(bar + 1);
    if (target === '!channel' || target === '!here' || target === '!everyone') {
      out.push({ kind: 'broadcast', target: target.slice(1) as 'channel' | 'here' | 'everyone', raw });
    } else if (target.startsWith('!subteam^')) out.push({ kind: 'usergroup', id: target.slice('!subteam^'.length), raw });
    else if (target.startsWith('@')) out.push({ kind: 'user', id: target.slice(1), raw });
    else if (target.startsWith('#')) out.push({ kind: 'channel', id: target.slice(1), raw });
    else if (target.startsWith('!')) out.push({ kind: 'other', raw });
    else out.push({ kind: 'link', url: target, ...(label !== undefined ? { label } : {}), raw });
    at = text.indexOf('<', end + 1);
  }
  return out;
}

interface MessageLike {
  text?: string;
  blocks?: unknown;
  attachments?: unknown;
}

/** Every string of the message Slack parses as mrkdwn: the top-level text, mrkdwn text objects, attachment texts. */
export function mrkdwnTexts(message: MessageLike): string[] {
  const out: string[] = [];
  if (typeof message.text === 'string') out.push(message.text);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
    for (const child of Object.values(o)) if (typeof child === 'object') walk(child);
  };
  walk(message.blocks);
  if (Array.isArray(message.attachments)) {
    for (const a of message.attachments as Array<Record<string, unknown>>) {
      for (const k of ['pretext', 'text', 'fallback', 'title', 'footer']) if (typeof a[k] === 'string') out.push(a[k] as string);
      if (Array.isArray(a.fields)) for (const f of a.fields as Array<Record<string, unknown>>) if (typeof f.value === 'string') out.push(f.value);
      walk(a.blocks);
    }
  }
  return out;
}

/** The special sequences of the whole message. */
export function messageMarkup(message: MessageLike): SlackMarkupToken[] {
  return mrkdwnTexts(message).flatMap(parseMarkup);
}

/**
 * The mentions of the message's rich_text blocks (of its own and of its attachments'), at any depth: they are
 * elements of their own (`broadcast`, `usergroup`, `user`), not `<…>` sequences, and notify as those do.
 */
export function richTextMentions(message: MessageLike): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'broadcast' && typeof o.range === 'string') out.push(`@${o.range}`);
    else if (o.type === 'usergroup' && typeof o.usergroup_id === 'string') out.push(`subteam:${o.usergroup_id}`);
    else if (o.type === 'user' && typeof o.user_id === 'string') out.push(`user:${o.user_id}`);
    for (const child of Object.values(o)) if (typeof child === 'object') walk(child);
  };
  const inRichText = (blocks: unknown) => {
    if (Array.isArray(blocks)) for (const b of blocks) if ((b as { type?: unknown } | null)?.type === 'rich_text') walk(b);
  };
  inRichText(message.blocks);
  if (Array.isArray(message.attachments)) for (const a of message.attachments as Array<Record<string, unknown> | null>) inRichText(a?.blocks);
  return out;
}

/** Who the message notifies: `@channel`, `@here`, `@everyone`, `subteam:S…`, `user:U…` (each once, in order). */
export function messageNotifications(message: MessageLike): string[] {
  const out = messageMarkup(message).flatMap((t) =>
    t.kind === 'broadcast' ? [`@${t.target}`] : t.kind === 'usergroup' ? [`subteam:${t.id}`] : t.kind === 'user' ? [`user:${t.id}`] : [],
  );
  return [...new Set([...out, ...richTextMentions(message)])];
}

/** The URLs the message links to (hidden behind a label or not). */
export function messageLinks(message: MessageLike): Array<{ url: string; label?: string }> {
  return messageMarkup(message).flatMap((t) => (t.kind === 'link' ? [{ url: t.url, ...(t.label !== undefined ? { label: t.label } : {}) }] : []));
}
