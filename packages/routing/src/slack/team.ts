import { SLACK_COMMAND_TYPES, type AnyEnvelope } from '@alertbus/schemas';

/**
 * What is decided from something said or clicked in a workspace is answered in that workspace: each Slack
 * command gets the input's team, so the slack-sink speaks with that team's token (OAuth installs).
 */
export function inTeam(events: AnyEnvelope[], teamId: string | undefined): AnyEnvelope[] {
  if (!teamId) return events;
  return events.map((e) =>
    SLACK_COMMAND_TYPES.has(e.type) && (e.data as { teamId?: string }).teamId === undefined
      ? ({ ...e, data: { ...e.data, teamId } } as AnyEnvelope)
      : e,
  );
}
