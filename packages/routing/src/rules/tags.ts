import type { NotificationTagSpec } from '@alertbus/schemas';
import type { CompiledTag } from './types';

/** The rules file's `tags:` as the router and ingest use them (the schema has checked every entry). */
export function compileTags(tags: Readonly<Record<string, NotificationTagSpec>> | undefined): Record<string, CompiledTag> {
  const out: Record<string, CompiledTag> = {};
  for (const [name, t] of Object.entries(tags ?? {})) {
    const levelChannels = Object.fromEntries(Object.entries(t.level_channels ?? {}).filter(([, ch]) => typeof ch === 'string'));
    out[name] = {
      channel: t.channel,
      ...(t.username !== undefined ? { username: t.username } : {}),
      ...(t.icon_emoji !== undefined ? { iconEmoji: t.icon_emoji } : {}),
      levelChannels,
    };
  }
  return out;
}

const REPLY_PLACEHOLDER = /\{\{\s*([A-Za-z_]+)\s*\}\}/g;
/** What `oncall.reply` may say, and the slack-sink placeholder each becomes. */
const REPLY_NAMES: Readonly<Record<string, string>> = { users: 'mentions', mentions: 'mentions', schedule: 'schedule', requester: 'requester' };

/** `oncall.reply` ("On call: {{users}}") in the placeholders the slack-sink fills ({mentions}, {schedule}, {requester}). */
export function replyTemplate(reply: string): string {
  return reply.replace(REPLY_PLACEHOLDER, (whole, name: string) => (REPLY_NAMES[name] ? `{${REPLY_NAMES[name]}}` : whole));
}

/** Names a placeholder the reply cannot fill, or a reply that mentions nobody. */
export function replyTemplateProblem(reply: string): string | null {
  const names = [...reply.matchAll(REPLY_PLACEHOLDER)].map((m) => m[1]!);
  const unknown = names.filter((n) => REPLY_NAMES[n] === undefined);
  if (unknown.length > 0) return `unknown placeholder {{${unknown[0]}}} (expected {{users}}, {{schedule}} or {{requester}})`;
  if (!names.some((n) => REPLY_NAMES[n] === 'mentions')) return 'must contain {{users}}: the reply is how the on-call is told';
  return null;
}
