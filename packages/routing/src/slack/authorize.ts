import type { CompiledRules } from '../rules/types';

/** The roles of the history API's tokens, lowest first; a Slack user has one of them. */
export type Role = 'viewer' | 'operator' | 'admin';
/** What a Slack user may be refused: the actions that change something. */
export type SlackAction = 'ack' | 'resolve' | 'silence' | 'unsilence' | 'cache-clear';
export interface Actor {
  readonly userId: string;
  readonly groups?: readonly string[];
}
export type Authorization =
  | { readonly allowed: true; readonly role: Role }
  | { readonly allowed: false; readonly role: Role; readonly needed: Role; readonly reason: string };

/**
 * Whether the actor may do the action. Until the rules file has a `permissions:` section every Slack user is an
 * admin, as before: nothing that worked is refused.
 */
export function authorize(_rules: CompiledRules, _actor: Actor, _action: SlackAction): Authorization {
  return { allowed: true, role: 'admin' };
}
