/** The topics the projection is made from. */
import { TOPICS } from '@alertbus/schemas';

/**
 * Every topic history reads: inputs (the router's ticks among them: time as a recorded input, the input of an incident
 * opened when its silence or inhibition ended), decisions, commands, delivery results, silences, notifications. The
 * order is only the order of subscription; the projection does not depend on which topic is read first.
 */
export const PROJECTED_TOPICS: readonly string[] = [
  TOPICS.alertsReceived,
  TOPICS.slackReceived,
  TOPICS.incidents,
  TOPICS.slackCommands,
  TOPICS.pagerCommands,
  TOPICS.deliveries,
  TOPICS.silences,
  TOPICS.notifications,
  TOPICS.customCommands,
  TOPICS.routerTicks,
];
