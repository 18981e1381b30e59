import type { Message } from 'kafkajs';
import { deriveId, HEADERS, makeEnvelope, type Envelope } from '@alertbus/schemas';
import type { AttemptError } from '@alertbus/common';
import type { ConsumedRecord } from './records';

function isUtf8Text(buf: Buffer): boolean {
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

/** The DeadLettered event for a record a consumer gave up on: the record itself plus every attempt's error. */
export function deadLetterEvent(
  record: ConsumedRecord,
  consumer: string,
  attempts: AttemptError[],
  now: Date,
): Envelope<'DeadLettered'> {
  const text = record.value === null ? null : isUtf8Text(record.value);
  const at = now.toISOString();
  return makeEnvelope({
    id: deriveId('dead-letter', consumer, record.topic, record.partition, record.offset),
    type: 'DeadLettered',
    alias: record.key ?? `${record.topic}:${record.partition}:${record.offset}`,
    occurredAt: at,
    recordedAt: at,
    source: consumer,
    data: {
      consumer,
      origin: {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        timestamp: record.timestamp,
        key: record.key,
        value: record.value === null ? null : text ? record.value.toString('utf8') : record.value.toString('base64'),
        valueEncoding: text === false ? 'base64' : 'utf8',
        headers: record.headers,
      },
      attempts: attempts.length > 0 ? attempts : [{ at, error: 'unknown error' }],
    },
  });
}

/**
 * The record a dead letter came from, as it was (key, value bytes, headers), for its topic and partition,
 * marked with the dead letter's id (HEADERS.redrive) so the consumer knows it is a redrive, and of which one.
 */
export function redriveRecord(dead: Envelope<'DeadLettered'>, by?: string): { topic: string; partition: number; message: Message } {
  const o = dead.data.origin;
  const value = o.value === null ? null : Buffer.from(o.value, o.valueEncoding === 'base64' ? 'base64' : 'utf8');
  return {
    topic: o.topic,
    partition: o.partition,
    message: { key: o.key, value, headers: { ...o.headers, [HEADERS.redrive]: dead.id, ...(by ? { [HEADERS.redrivenBy]: by } : {}) } },
  };
}
