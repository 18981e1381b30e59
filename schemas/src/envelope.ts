import { createHash, randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES, type EventData, type EventType } from './events';

export const ENVELOPE_VERSION = 1;

/** The envelope every record on every alertbus topic carries. */
export const EnvelopeSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.Union(Object.keys(EVENT_TYPES).map((t) => Type.Literal(t))),
    version: Type.Literal(ENVELOPE_VERSION),
    alias: Type.String({ minLength: 1, maxLength: 512, description: 'The incident alias; also the record key.' }),
    occurredAt: Type.String({ format: 'date-time', description: 'When it happened at the source.' }),
    recordedAt: Type.String({ format: 'date-time', description: 'When alertbus recorded it.' }),
    source: Type.String({ minLength: 1, description: 'The component that wrote it, e.g. ingest/alertmanager.' }),
    causationId: Type.Union([Type.String(), Type.Null()], { description: 'Id of the event that caused this one.' }),
    correlationId: Type.String({ description: 'Id of the first event of the chain (the received input).' }),
    data: Type.Unknown(),
  },
  { additionalProperties: false },
);

type EnvelopeBase = Omit<Static<typeof EnvelopeSchema>, 'type' | 'data'>;

export type Envelope<T extends EventType = EventType> = {
  [K in T]: Readonly<EnvelopeBase & { type: K; data: EventData<K> }>;
}[T];

export type AnyEnvelope = Envelope<EventType>;

/**
 * Ids derived from the input's id, so that re-running a decision produces the same ids and consumers
 * can drop what they already applied. Formatted as a UUID (v8 layout, sha256-based).
 */
export function deriveId(...parts: ReadonlyArray<string | number>): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function newId(): string {
  return randomUUID();
}

export interface EnvelopeInit<T extends EventType> {
  id: string;
  type: T;
  alias: string;
  occurredAt: string;
  recordedAt: string;
  source: string;
  causationId?: string | null;
  correlationId?: string;
  data: EventData<T>;
}

export function makeEnvelope<T extends EventType>(init: EnvelopeInit<T>): Envelope<T> {
  return {
    id: init.id,
    type: init.type,
    version: ENVELOPE_VERSION,
    alias: init.alias,
    occurredAt: init.occurredAt,
    recordedAt: init.recordedAt,
    source: init.source,
    causationId: init.causationId ?? null,
    correlationId: init.correlationId ?? init.id,
    data: init.data,
  } as Envelope<T>;
}

export function topicOf(type: EventType): string {
  return EVENT_TYPES[type].topic;
}
