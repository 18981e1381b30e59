/**
 * Where an event sits in an incident's story. Decisions and commands carry their input's recordedAt, so
 * at equal times the stage orders the timeline: received → decided → command → delivered.
 */
import { INCIDENT_COMMAND_TYPES, TOPICS } from '@alertbus/schemas';
import { DELIVERY_EVENT_TYPES } from './delivery-events';
import { INCIDENT_EVENT_TYPES } from './incident-events';
import { SILENCE_EVENT_TYPES } from './silence-events';

export const STAGES = ['received', 'decided', 'command', 'delivered', 'delayed', 'failed', 'silence', 'other'] as const;
export type Stage = (typeof STAGES)[number];

/** By type where history knows it; otherwise by the topic (a new input type on slack.received.v1 is an input). */
export function stageOf(type: string, topic: string): Stage {
  if (type === 'AlertReceived' || type === 'NotificationRequested') return 'received';
  if (type === 'NotificationRouted') return 'decided';
  if (INCIDENT_EVENT_TYPES.has(type)) return 'decided';
  if (INCIDENT_COMMAND_TYPES.has(type)) return 'command';
  if (DELIVERY_EVENT_TYPES.has(type)) return type === 'DeliveryFailed' ? 'failed' : 'delivered';
  if (type === 'DeliveryDelayed') return 'delayed';
  if (SILENCE_EVENT_TYPES.has(type)) return 'silence';
  // The router's ticks (an audit reads them) are inputs too: time, recorded.
  if (topic === TOPICS.alertsReceived || topic === TOPICS.slackReceived || topic === TOPICS.routerTicks) return 'received';
  if (topic === TOPICS.incidents) return 'decided';
  if (topic === TOPICS.slackCommands || topic === TOPICS.pagerCommands) return 'command';
  if (topic === TOPICS.deliveries) return 'delivered';
  return 'other';
}

const RANK: Record<Stage, number> = { received: 0, decided: 1, command: 2, delivered: 3, delayed: 3, failed: 3, silence: 4, other: 5 };

export const stageRank = (stage: Stage): number => RANK[stage];

/** The same rank in SQL, over the stored `stage` column. */
export const STAGE_RANK_SQL = `(CASE stage WHEN 'received' THEN 0 WHEN 'decided' THEN 1 WHEN 'command' THEN 2
  WHEN 'delivered' THEN 3 WHEN 'delayed' THEN 3 WHEN 'failed' THEN 3 WHEN 'silence' THEN 4 ELSE 5 END)`;
