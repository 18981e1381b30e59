/**
 * Pure: one interactivity payload (`block_actions`) → one SlackActionReceived per action, keyed by the
 * incident alias the alertbus button carries in its value. No I/O, no clock.
 */
import type { SlackActionReceived, SlackButtonValue } from '@alertbus/schemas';
import { slackMessageAlias } from './normalise-event';
import { slackTsToIso } from './time';
import { withoutVerificationToken, type SlackBlockActionWire } from './wire';

export interface NormalisedAction {
  alias: string;
  occurredAt?: string;
  data: SlackActionReceived;
}

export type SlackInteractionResult =
  | { outcome: 'actions'; actions: NormalisedAction[] }
  | { outcome: 'ignored'; detail: string }
  | { outcome: 'invalid'; message: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The {alias, incidentId} an alertbus button carries (SlackButtonValue), or undefined for any other value. */
export function parseButtonValue(value: string | undefined): SlackButtonValue | undefined {
  if (!value || value[0] !== '{') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  const v = parsed as Partial<Record<keyof SlackButtonValue, unknown>>;
  if (typeof v !== 'object' || v === null) return undefined;
  const { alias, incidentId } = v;
  if (typeof alias !== 'string' || alias.length < 1 || alias.length > 512) return undefined;
  if (typeof incidentId !== 'string' || incidentId.length < 1 || incidentId.length > 200) return undefined;
  return { alias, incidentId };
}

export function normaliseInteraction(payload: { type: string } & Record<string, unknown>): SlackInteractionResult {
  if (payload.type !== 'block_actions') return { outcome: 'ignored', detail: `${payload.type} interactions are not used by alertbus` };
  const p = payload as unknown as SlackBlockActionWire;
  const channel = str(p.container?.channel_id) ?? str(p.channel?.id);
  const messageTs = str(p.container?.message_ts) ?? str(p.message?.ts);
  if (!channel || !messageTs) {
    return { outcome: 'ignored', detail: `block_actions on a ${p.container?.type ?? 'non-message'} container, not on a message` };
  }
  const team = str(p.team?.id) ?? str(p.user?.team_id);
  const userId = str(p.user?.id);
  if (!team) return { outcome: 'invalid', message: 'block_actions payload without team.id' };
  if (!userId) return { outcome: 'invalid', message: 'block_actions payload without user.id' };
  if (!Array.isArray(p.actions) || p.actions.length === 0) return { outcome: 'invalid', message: 'block_actions payload without actions' };
  const raw = withoutVerificationToken(payload);

  const userName = str(p.user?.name) ?? str(p.user?.username);
  const threadTs = str(p.message?.thread_ts) ?? str(p.container?.thread_ts);
  const actions: NormalisedAction[] = [];
  for (const [i, a] of p.actions.entries()) {
    const actionId = str(a?.action_id);
    if (!actionId) return { outcome: 'invalid', message: `actions[${i}] has no action_id` };
    const value = typeof a.value === 'string' ? a.value : undefined;
    const button = parseButtonValue(value);
    const data: SlackActionReceived = {
      actionId,
      ...(str(a.block_id) ? { blockId: a.block_id } : {}),
      actionType: str(a.type) ?? 'unknown',
      ...(value !== undefined ? { value } : {}),
      ...(button ? { incidentId: button.incidentId } : {}),
      user: { id: userId, ...(userName ? { name: userName } : {}) },
      team,
      channel,
      messageTs,
      ...(threadTs && threadTs !== messageTs ? { threadTs } : {}),
      ...(str(a.action_ts) ? { actionTs: a.action_ts } : {}),
      ...(str(p.response_url) ? { responseUrl: p.response_url } : {}),
      ...(str(p.trigger_id) ? { triggerId: p.trigger_id } : {}),
      raw,
    };
    actions.push({
      alias: button?.alias ?? slackMessageAlias(team, channel, messageTs),
      occurredAt: slackTsToIso(a.action_ts),
      data,
    });
  }
  return { outcome: 'actions', actions };
}
