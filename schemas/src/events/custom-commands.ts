import { Type, type Static } from '@sinclair/typebox';
import { RuleRef } from '../common';
import { slackTs } from './shared';

// ---------------------------------------------------------------- custom commands (router → other systems)

export const CustomCommandRequested = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'The entry\'s command.name: what consumers filter on.' }),
    rule: RuleRef,
    text: Type.String({ description: 'The text after the mention, as Slack sent it.' }),
    groups: Type.Record(Type.String(), Type.String(), { description: 'The pattern\'s named groups (sender text: data, not markup).' }),
    user: Type.String({ minLength: 1, description: 'Slack user id of who asked.' }),
    userGroups: Type.Optional(Type.Array(Type.String())),
    team: Type.String({ minLength: 1 }),
    channel: Type.String({ minLength: 1 }),
    threadTs: slackTs('The thread to answer in, for a consumer that answers (chat.postMessage thread_ts).'),
    messageTs: slackTs('The message\'s own ts.'),
  },
  {
    additionalProperties: false,
    description:
      'A `commands:` entry with `command:` matched a message to the app: a request for another system to act on, on ' +
      'commands.custom.v1. Envelope alias = the message\'s (slack:{team}:{channel}:{ts}); the id is derived from the message, so ' +
      'a redelivered message is the same request.',
  },
);
export type CustomCommandRequested = Static<typeof CustomCommandRequested>;
