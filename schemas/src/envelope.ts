import * as crypto from 'node:crypto';
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
  const h = sha256Hex(parts.join('\u0000'));
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** One-shot `crypto.hash` where Node has it (20.12+): a decision derives an id per output, and a Hash object each cost more than the digest. */
const sha256Hex: (s: string) => string =
  typeof crypto.hash === 'function' ? (s) => crypto.hash('sha256', s, 'hex') : (s) => crypto.createHash('sha256').update(s).digest('hex');

export function newId(): string {
  return crypto.randomUUID();
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
