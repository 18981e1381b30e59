/** The router's commands to the sinks (commands.slack.v1, commands.pager.v1): timeline rows of their incident, nothing more. */
export type CommandEventType =
  | 'PostSlackMessage'
  | 'UpdateSlackMessage'
  | 'CreatePagerAlert'
  | 'ClosePagerAlert'
  | 'AcknowledgePagerAlert'
  | 'AddPagerNote';

export const COMMAND_EVENT_TYPES: ReadonlySet<string> = new Set<CommandEventType>([
  'PostSlackMessage',
  'UpdateSlackMessage',
  'CreatePagerAlert',
  'ClosePagerAlert',
  'AcknowledgePagerAlert',
  'AddPagerNote',
]);
