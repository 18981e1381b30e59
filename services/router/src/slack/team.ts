import type { AnyEnvelope } from '@alertbus/schemas';

/** The commands the slack-sink executes with a workspace's bot token. */
const SLACK_COMMANDS: ReadonlySet<string> = new Set(['PostSlackMessage', 'UpdateSlackMessage', 'ReplyWithOnCall', 'PostSlackReply', 'ClearOnCallCache']);

/**
 * What is decided from something said or clicked in a workspace is answered in that workspace: each Slack
 * command gets the input's team, so the slack-sink speaks with that team's token (OAuth installs).
 */
export function inTeam(events: AnyEnvelope[], teamId: string | undefined): AnyEnvelope[] {
  if (!teamId) return events;
  return events.map((e) =>
    SLACK_COMMANDS.has(e.type) && (e.data as { teamId?: string }).teamId === undefined
      ? ({ ...e, data: { ...e.data, teamId } } as AnyEnvelope)
      : e,
  );
}
