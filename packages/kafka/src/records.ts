import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { HEADERS, type AnyEnvelope } from '@alertbus/schemas';

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  timestamp: string;
  headers: Record<string, string>;
  value: Buffer | null;
}

export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : v.toString();
  }
  return out;
}

export function toConsumedRecord(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : null,
    timestamp: m.timestamp,
    headers: headersToStrings(m.headers),
    value: m.value,
  };
}

/**
 * An event as a Kafka message: keyed by alias, typed headers, timestamped with recordedAt. `value` is the
 * event's JSON when the caller already has it (it must be JSON.stringify(event), as a string or its UTF-8
 * bytes), so it is not made twice. Bytes are encoded once: KafkaJS measures a string's UTF-8 length twice
 * more before writing it.
 */
export function toMessage(event: AnyEnvelope, value: string | Buffer = JSON.stringify(event)): Message {
  const ts = Date.parse(event.recordedAt);
  return {
    key: event.alias,
    value,
    timestamp: Number.isNaN(ts) ? undefined : String(ts),
    headers: {
      [HEADERS.eventType]: event.type,
      [HEADERS.eventId]: event.id,
      [HEADERS.schemaVersion]: String(event.version),
    },
  };
}
