/** One event at one position → every row change it makes; the single entry point of the pure projection. */
import type { AnyEnvelope, Envelope, RuleRef } from '@alertbus/schemas';
import { DELIVERY_EVENT_TYPES, deliveryChanges, deliveryRow, type DeliveryEventType } from './delivery-events';
import { INCIDENT_EVENT_TYPES, incidentChanges, type IncidentEventType } from './incident-events';
import type { Position, Projection, TimelineRow } from './types';

/** Events history does not project (commands, received inputs, dead letters) give null. */
export function project(event: AnyEnvelope, at: Position): Projection | null {
  if (isIncidentEvent(event)) {
    return {
      eventId: event.id,
      timeline: timelineRow(event, at, event.data.incidentId ?? null, event.data.reason, event.data.rule),
      delivery: null,
      changes: incidentChanges(event),
    };
  }
  if (isDeliveryEvent(event)) {
    const delivery = deliveryRow(event, at);
    return {
      eventId: event.id,
      timeline: timelineRow(event, at, delivery.incidentId, null, null),
      delivery,
      changes: deliveryChanges(event),
    };
  }
  return null;
}

function isIncidentEvent(event: AnyEnvelope): event is Envelope<IncidentEventType> {
  return INCIDENT_EVENT_TYPES.has(event.type);
}

function isDeliveryEvent(event: AnyEnvelope): event is Envelope<DeliveryEventType> {
  return DELIVERY_EVENT_TYPES.has(event.type);
}

function timelineRow(
  event: AnyEnvelope,
  at: Position,
  incidentId: string | null,
  reason: string | null,
  rule: RuleRef | null,
): TimelineRow {
  return {
    ...at,
    eventId: event.id,
    incidentId,
    alias: event.alias,
    type: event.type,
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    source: event.source,
    causationId: event.causationId,
    correlationId: event.correlationId,
    reason,
    rule,
    data: event.data,
  };
}
