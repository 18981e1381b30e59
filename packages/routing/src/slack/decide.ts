import type { Envelope } from '@alertbus/schemas';
import type { Outputs } from '../core/outputs';
import type { CompiledRules } from '../rules/types';
import type { DecisionContext } from '../core/context';
import { decideSlackAction } from './actions';
import { decideSlackMessage } from './messages';
import type { RouterState } from '../state';
import { decideSlashCommand } from './slash-decide';
import { inTeam } from './team';
import { decideRootPosted, decideTextCommand, decideThreadLinked } from './threads';

/** The Slack side of the router's inputs: from ingest, from the slack-sink, and the ones it sends itself. */
export type SlackInput = Envelope<
  'SlackMessageReceived' | 'SlackActionReceived' | 'SlackThreadLinked' | 'SlackTextCommandReceived' | 'SlackMessagePosted' | 'SlackSlashCommandReceived'
>;

export const SLACK_INPUT_TYPES: ReadonlySet<string> = new Set<SlackInput['type']>([
  'SlackMessageReceived',
  'SlackActionReceived',
  'SlackThreadLinked',
  'SlackTextCommandReceived',
  'SlackMessagePosted',
  'SlackSlashCommandReceived',
]);

/** Decides one Slack input against the state of its key. Pure, like the alert decider. */
export function decideSlack(
  input: SlackInput,
  state: RouterState | undefined,
  rules: CompiledRules,
  ctx: Pick<DecisionContext, 'silenceMaxMs' | 'neighbours' | 'retentionMs' | 'silences'> = {},
): { events: Outputs['events']; state: RouterState | undefined } {
  switch (input.type) {
    case 'SlackMessageReceived': {
      const d = decideSlackMessage(input, state, rules, ctx);
      return { ...d, events: inTeam(d.events, input.data.team) };
    }
    case 'SlackActionReceived': {
      const d = decideSlackAction(input, state, rules, ctx);
      return { ...d, events: inTeam(d.events, input.data.team) };
    }
    case 'SlackThreadLinked':
      return decideThreadLinked(input, state);
    case 'SlackTextCommandReceived': {
      const d = decideTextCommand(input, state, rules);
      return { ...d, events: inTeam(d.events, input.data.team) };
    }
    case 'SlackMessagePosted':
      return decideRootPosted(input, state);
    case 'SlackSlashCommandReceived': {
      const d = decideSlashCommand(input, state, rules, ctx);
      return { ...d, events: inTeam(d.events, input.data.team) };
    }
  }
}
