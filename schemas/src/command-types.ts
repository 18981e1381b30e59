/** The command lists, derived from the event table so a new command type joins them by being added there. */
import type { TSchema } from '@sinclair/typebox';
import { EVENT_TYPES, type EventData, type EventType } from './events';
import { TOPICS } from './topics';

type TopicOfType<T extends EventType> = (typeof EVENT_TYPES)[T]['topic'];

/** Types on the Slack sink's command topic. */
export type SlackCommandType = { [T in EventType]: TopicOfType<T> extends typeof TOPICS.slackCommands ? T : never }[EventType];
/** Types on the pager sink's command topic. */
export type PagerCommandType = { [T in EventType]: TopicOfType<T> extends typeof TOPICS.pagerCommands ? T : never }[EventType];
export type CommandType = SlackCommandType | PagerCommandType;
/** The commands about an incident's own Slack message and pager alert: they always name the incident. */
export type IncidentCommandType = { [T in CommandType]: EventData<T> extends { incidentId: string } ? T : never }[CommandType];

const typesOn = (topic: string): EventType[] => (Object.keys(EVENT_TYPES) as EventType[]).filter((t) => EVENT_TYPES[t].topic === topic);

export const SLACK_COMMAND_TYPES: ReadonlySet<string> = new Set<string>(typesOn(TOPICS.slackCommands));
export const PAGER_COMMAND_TYPES: ReadonlySet<string> = new Set<string>(typesOn(TOPICS.pagerCommands));
export const COMMAND_TYPES: ReadonlySet<string> = new Set([...SLACK_COMMAND_TYPES, ...PAGER_COMMAND_TYPES]);

/** Commands whose schema requires incidentId (not the Slack request replies and on-call cache, which may have none). */
export const INCIDENT_COMMAND_TYPES: ReadonlySet<string> = new Set(
  [...COMMAND_TYPES].filter((t) => ((EVENT_TYPES[t as EventType].data as TSchema).required as string[] | undefined)?.includes('incidentId')),
);
