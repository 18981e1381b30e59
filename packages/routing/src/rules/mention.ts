/**
 * A rule's `mention` list → the Slack markup that pings (https://docs.slack.dev/messaging/formatting-message-text):
 * the only markup in alertbus's messages that notifies anyone, and it comes from the rules file, never from an alert.
 */
import { own } from '../core/own';

const USERGROUP_ID = /^S[A-Z0-9]{2,}$/;
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export type MentionResult = { ok: true; markup: string } | { ok: false; error: string };

/** Handles are matched case-insensitively, as Slack shows them in lower case. */
export function normaliseUsergroups(map: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).map(([handle, id]) => [handle.trim().replace(/^@/, '').toLowerCase(), id.trim()]));
}

/** Why a `usergroups:` entry is unusable, or null. */
export function usergroupIdProblem(id: string): string | null {
  return USERGROUP_ID.test(id.trim()) ? null : `"${id}" is not a user group id: expected S… (Slack: the group's ⋮ menu → Copy group ID)`;
}

/** One entry of `mention`: channel, here, @handle (from `usergroups`), a user group id (S…) or a user id (U…, W…). */
export function mentionMarkup(entry: string, usergroups: Readonly<Record<string, string>>): MentionResult {
  const e = entry.trim();
  if (e === 'channel' || e === '@channel') return { ok: true, markup: '<!channel>' };
  if (e === 'here' || e === '@here') return { ok: true, markup: '<!here>' };
  if (USERGROUP_ID.test(e)) return { ok: true, markup: `<!subteam^${e}>` };
  if (USER_ID.test(e)) return { ok: true, markup: `<@${e}>` };
  if (e.startsWith('@') && e.length > 1) {
    const handle = e.slice(1).toLowerCase();
    const id = own(usergroups, handle);
    if (id && USERGROUP_ID.test(id)) return { ok: true, markup: `<!subteam^${id}>` };
    return { ok: false, error: `unknown user group ${e}: name its id in the file's usergroups (usergroups: { ${handle}: S0123ABCD })` };
  }
  return {
    ok: false,
    error: `"${entry}" is not a mention: expected channel, here, @handle (a user group listed under usergroups), a user group id (S…) or a user id (U…, W…)`,
  };
}
