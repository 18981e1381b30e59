/** Who may do what from Slack: the rules file's `permissions:`, asked before any action changes anything. Pure. */
import { own } from '../core/own';
import type { CompiledRules, Role } from '../rules/types';

export type { Role };
export type SlackAction = 'ack' | 'resolve' | 'silence' | 'unsilence' | 'cache-clear';
export interface Actor {
  readonly userId: string;
  readonly groups?: readonly string[];
}
export type Authorization =
  | { readonly allowed: true; readonly role: Role }
  | { readonly allowed: false; readonly role: Role; readonly needed: Role; readonly reason: string };

/** The same order as the history API's token roles. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 0, operator: 1, admin: 2 };

/** What each action needs. */
export const NEEDED_ROLE: Readonly<Record<SlackAction, Role>> = {
  ack: 'operator',
  resolve: 'operator',
  silence: 'operator',
  unsilence: 'operator',
  'cache-clear': 'admin',
};

/** A user-group handle as compared: without its @, lower case (Slack handles are case-insensitive). */
export const groupKey = (handle: string): string => handle.trim().replace(/^@/, '').toLowerCase();

const atLeast = (role: Role, needed: Role) => ROLE_RANK[role] >= ROLE_RANK[needed];

/** A person's role and where it came from: their users: entry, else their highest group, else the default. */
export function roleOf(rules: CompiledRules, actor: Actor): { role: Role; from: string } {
  const p = rules.permissions;
  if (!p) return { role: 'admin', from: 'no permissions: section (everyone may do everything)' };
  const mine = own(p.users, actor.userId);
  if (mine) return { role: mine, from: `permissions.users.${actor.userId}` };
  let best: { role: Role; from: string } | undefined;
  for (const g of actor.groups ?? []) {
    const role = own(p.groups, groupKey(g));
    if (role && (!best || ROLE_RANK[role] > ROLE_RANK[best.role])) best = { role, from: `permissions.groups.${groupKey(g)}` };
  }
  return best ?? { role: p.default, from: 'permissions.default' };
}

/**
 * The warning the router logs while the rules give no `permissions:` section: every member of the workspace is then an
 * admin to alertbus, and may mute the monitoring from Slack (silence, unsilence: maintenance windows made through the
 * history API's operator tokens included). Undefined when the rules have the section.
 */
export function openPermissionsWarning(rules: Pick<CompiledRules, 'permissions'>): string | undefined {
  if (rules.permissions) return undefined;
  return (
    'SLACK PERMISSIONS ARE OPEN: the rules file has no permissions: section, so every member of the Slack workspace may ' +
    'acknowledge, resolve, silence alerts and end any silence from Slack. Give the rules a permissions: section.'
  );
}

/** May this person do this? With the role they have, and when not, the role needed and why, in words. */
export function authorize(rules: CompiledRules, actor: Actor, action: SlackAction): Authorization {
  return authorizeRole(rules, actor, NEEDED_ROLE[action], action);
}

/** The same for a role named directly (a `commands:` entry's `role:`). */
export function authorizeRole(rules: CompiledRules, actor: Actor, needed: Role, what: string): Authorization {
  const { role, from } = roleOf(rules, actor);
  if (atLeast(role, needed)) return { allowed: true, role };
  return { allowed: false, role, needed, reason: `${what} needs the ${needed} role; ${actor.userId} is ${role} (${from})` };
}

/** What the person alone is told when refused. */
export function refusalText(what: string, a: Extract<Authorization, { allowed: false }>): string {
  return `Sorry, you may not ${what}: it needs the *${a.needed}* role and you are *${a.role}*. Ask an admin of alertbus's rules file (\`permissions:\`).`;
}
