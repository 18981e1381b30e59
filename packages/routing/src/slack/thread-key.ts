export const THREAD_KEY_PREFIX = 'slack-thread:';

/**
 * Key of a Slack thread's record: channel ids are unique within a workspace (and across an Enterprise
 * Grid), and the sinks report the channel id and ts of the roots they post, but not the team.
 */
export function threadKey(channel: string, threadTs: string): string {
  return `${THREAD_KEY_PREFIX}${channel}:${threadTs}`;
}
