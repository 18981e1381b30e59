import { COMMAND_TYPES, INCIDENT_COMMAND_TYPES, PAGER_COMMAND_TYPES, SLACK_COMMAND_TYPES, type IncidentCommandType, type PagerCommandType } from './command-types';
import { EVENT_TYPES, INCIDENT_EVENT_TYPES, type EventType } from './events';
import { TOPICS } from './topics';

describe('command lists derived from the event table', () => {
  test('each sink gets exactly the types on its topic', () => {
    expect([...SLACK_COMMAND_TYPES]).toEqual(['PostSlackMessage', 'UpdateSlackMessage', 'ReplyWithOnCall', 'ClearOnCallCache', 'PostSlackReply', 'PostNotification', 'PostSlackEphemeral', 'CallCommandWebhook', 'AnswerSlashCommand']);
    const pager: PagerCommandType[] = ['CreatePagerAlert', 'ClosePagerAlert', 'AcknowledgePagerAlert', 'AddPagerNote', 'UpdatePagerPriority'];
    expect([...PAGER_COMMAND_TYPES]).toEqual(pager);
    expect(COMMAND_TYPES.size).toBe(SLACK_COMMAND_TYPES.size + PAGER_COMMAND_TYPES.size);
  });

  test('the incident commands are those that always name their incident', () => {
    const incident: IncidentCommandType[] = ['PostSlackMessage', 'UpdateSlackMessage', 'CreatePagerAlert', 'ClosePagerAlert', 'AcknowledgePagerAlert', 'AddPagerNote', 'UpdatePagerPriority'];
    expect([...INCIDENT_COMMAND_TYPES]).toEqual(incident);
  });

  test('no command is also a decision event, and every command lives on a command topic', () => {
    for (const t of COMMAND_TYPES) {
      expect(INCIDENT_EVENT_TYPES.has(t)).toBe(false);
      expect([TOPICS.slackCommands, TOPICS.pagerCommands]).toContain(EVENT_TYPES[t as EventType].topic);
    }
  });
});
