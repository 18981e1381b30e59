import type { AliasState, SlackKeyState } from '@alertbus/schemas';

/**
 * What the router keeps under one key: an incident (alert or Slack request), or one of the two Slack
 * bookkeeping records — a message that was a command (so its redeliveries are known), or the incident a
 * Slack thread belongs to (so `ack` typed in the thread finds it).
 */
export type RouterState = AliasState | SlackKeyState;

export function isIncidentState(s: RouterState | undefined): s is AliasState {
  return s !== undefined && !('kind' in s);
}

/** The key a state is stored under (incidents by alias, Slack records by their key). */
export function stateKey(s: RouterState): string {
  return isIncidentState(s) ? s.alias : s.key;
}
