/** One event at one position → every row change it makes; the single entry point of the pure projection. */
import { keepableJson } from '@alertbus/common';
import { INCIDENT_COMMAND_TYPES, type AnyEnvelope, type Envelope, type IncidentCommandType, type RuleRef } from '@alertbus/schemas';
import { DELIVERY_EVENT_TYPES, deliveryChanges, deliveryRow, genericDeliveryRow, type DeliveryEventType } from './delivery-events';
import { INCIDENT_EVENT_TYPES, incidentChanges, type IncidentEventType } from './incident-events';
import { SILENCE_EVENT_TYPES, silenceChanges, type SilenceEventType } from './silence-events';
import { notificationChanges } from './notification-events';
import { stageOf } from './stage';
import type { Position, Projection, TimelineRow } from './types';

/**
 * Every valid event gets a timeline row. Types this file does not know (for example inputs added to
 * slack.received.v1 later) are kept generically: their `incidentId`, `inputId`, `reason` and `rule`, when
 * the data has them, are read as the decision and command events use them.
 */
export function project(recorded: AnyEnvelope, at: Position, opts: { keepable?: boolean } = {}): Projection {
  // Records written before ingest cleaned text at its edge can hold NUL or lone surrogates, which Postgres
  // refuses: they are stored cleaned (as ingest cleans today) instead of being set aside for their text.
  // `keepable`: the caller found the recorded JSON cannot hold any (keepableAsRecorded), so nothing to walk.
  const event = opts.keepable === true ? recorded : keepableJson(recorded).value;
  if (isIncidentEvent(event)) {
    const d = event.data;
    return {
      eventId: event.id,
      timeline: timelineRow(event, at, { incidentId: d.incidentId ?? null, inputId: d.inputId, reason: d.reason, rule: d.rule }),
      delivery: null,
      changes: incidentChanges(event),
    };
  }
  if (isDeliveryEvent(event)) {
    const delivery = deliveryRow(event, at);
    return {
      eventId: event.id,
      timeline: timelineRow(event, at, { incidentId: delivery.incidentId }),
      delivery,
      changes: deliveryChanges(event),
    };
  }
  if (isCommandEvent(event)) {
    return {
      eventId: event.id,
      timeline: timelineRow(event, at, { incidentId: event.data.incidentId, rule: event.data.rule }),
      delivery: null,
      changes: [],
    };
  }
  if (isSilenceEvent(event)) {
    return { eventId: event.id, timeline: timelineRow(event, at, {}), delivery: null, changes: silenceChanges(event) };
  }
  const delivery = genericDeliveryRow(event, at);
  const links = genericLinks(event.data);
  return {
    eventId: event.id,
    timeline: timelineRow(event, at, { ...links, incidentId: links.incidentId ?? delivery?.incidentId ?? null }),
    delivery,
    changes: notificationChanges(event),
  };
}

function isIncidentEvent(event: AnyEnvelope): event is Envelope<IncidentEventType> {
  return INCIDENT_EVENT_TYPES.has(event.type);
}

function isDeliveryEvent(event: AnyEnvelope): event is Envelope<DeliveryEventType> {
  return DELIVERY_EVENT_TYPES.has(event.type);
}

function isCommandEvent(event: AnyEnvelope): event is Envelope<IncidentCommandType> {
  return INCIDENT_COMMAND_TYPES.has(event.type);
}

function isSilenceEvent(event: AnyEnvelope): event is Envelope<SilenceEventType> {
  return SILENCE_EVENT_TYPES.has(event.type);
}

interface Links {
  incidentId?: string | null;
  inputId?: string | null;
  reason?: string | null;
  rule?: RuleRef | null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

function isRuleRef(v: unknown): v is RuleRef {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.path === 'string' && typeof r.rulesVersion === 'string' && (r.name === undefined || typeof r.name === 'string');
}

/** The links an event of an unknown type offers, read by the names every alertbus event uses for them. */
export function genericLinks(data: unknown): Links {
  if (typeof data !== 'object' || data === null) return {};
  const d = data as Record<string, unknown>;
  const rule = isRuleRef(d.rule) ? { path: d.rule.path, ...(d.rule.name !== undefined ? { name: d.rule.name } : {}), rulesVersion: d.rule.rulesVersion } : null;
  return { incidentId: text(d.incidentId), inputId: text(d.inputId), reason: text(d.reason), rule };
}

function timelineRow(event: AnyEnvelope, at: Position, links: Links): TimelineRow {
  // The position's fields one by one: an object spread followed by more fields is some 20 times slower here.
  return {
    topic: at.topic,
    partition: at.partition,
    offset: at.offset,
    eventId: event.id,
    incidentId: links.incidentId ?? null,
    inputId: links.inputId ?? null,
    alias: event.alias,
    type: event.type,
    stage: stageOf(event.type, at.topic),
    occurredAt: event.occurredAt,
    recordedAt: event.recordedAt,
    source: event.source,
    causationId: event.causationId,
    correlationId: event.correlationId,
    reason: links.reason ?? null,
    rule: links.rule ?? null,
    data: event.data,
  };
}

/** In JSON text: an escape keepableText may change (\b, \f, \r, \u), a raw DEL, C1 control or surrogate. */
const MAY_NEED_CLEANING = /\\[bfru]|[\u007F-\u009F\uD800-\uDFFF]/;
const BACKSLASH = 0x5c;
const DEL = 0x7f;
/** The escapes whose character keepableText changes or that can spell any character: b, f, r, u. */
const CHANGING_ESCAPES = new Set([0x62, 0x66, 0x72, 0x75]);

/**
 * Whether JSON text can only decode to strings keepableJson leaves as they are, so the walk over every string
 * of the event can be skipped. Control characters come into a JSON string only escaped (\b, \f, \r, or \u, which
 * also spells lone surrogates; \n, \t, \", \\ and \/ give characters that stay); DEL and C1 controls (U+0080-U+009F,
 * in UTF-8 the lead byte C2 then 80-9F) may also come raw. UTF-8 decodes to no lone surrogate (an invalid sequence
 * is U+FFFD). False means "perhaps": the walk decides. The same test as ingest's over a webhook body, on the bytes.
 */
export function keepableAsRecorded(value: Buffer | string | null): boolean {
  if (value === null) return false;
  if (typeof value === 'string') return !MAY_NEED_CLEANING.test(value);
  // Outside strings valid JSON has no backslash; inside, each one starts an escape of one character (then its hex).
  for (let i = value.indexOf(BACKSLASH); i !== -1; i = value.indexOf(BACKSLASH, i + 2)) {
    if (CHANGING_ESCAPES.has(value[i + 1]!)) return false;
  }
  if (value.indexOf(DEL) !== -1) return false;
  for (let i = value.indexOf(0xc2); i !== -1; i = value.indexOf(0xc2, i + 1)) {
    const next = value[i + 1];
    if (next !== undefined && next >= 0x80 && next <= 0x9f) return false;
  }
  return true;
}
