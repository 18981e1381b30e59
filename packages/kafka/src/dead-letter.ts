import { createHash } from 'node:crypto';
import type { Message } from 'kafkajs';
import { deriveId, HEADERS, makeEnvelope, type Envelope } from '@alertbus/schemas';
import type { AttemptError } from '@alertbus/common';
import type { ConsumedRecord } from './records';

function isUtf8Text(buf: Buffer): boolean {
  return Buffer.from(buf.toString('utf8'), 'utf8').equals(buf);
}

/** The longest alias an envelope holds (its schema's maxLength). */
const ALIAS_MAX = 512;
/**
 * The most bytes of the original value a dead letter keeps, as JSON text. The producer refuses a write over 1,000,000
 * bytes (ProduceRefused 'too-large'); a dead letter it refuses is thrown back to the consume loop, which retries the bad
 * record forever and stops its partition. JSON escaping (quotes, backslashes) or base64 can make a 700 KB value 1.8 MB.
 */
export const DEAD_LETTER_VALUE_MAX_BYTES = 800_000;

/**
 * The DeadLettered event for a record a consumer gave up on: the record itself plus every attempt's error. Always one
 * the producer takes, whatever the record: a key that is no valid alias (empty, longer than 512 characters) gives the
 * record's position as the alias; a value too large to hold is left out, with its size and digest (the record stays
 * where it was, at its topic, partition and offset). Else a bad record could never be set aside.
 */
export function deadLetterEvent(
  record: ConsumedRecord,
  consumer: string,
  attempts: AttemptError[],
  now: Date,
): Envelope<'DeadLettered'> {
  const text = record.value === null ? null : isUtf8Text(record.value);
  const at = now.toISOString();
  const position = `${record.topic}:${record.partition}:${record.offset}`;
  const key = record.key;
  let value = record.value === null ? null : text ? record.value.toString('utf8') : record.value.toString('base64');
  let valueOmitted: { bytes: number; sha256: string } | undefined;
  if (value !== null && Buffer.byteLength(JSON.stringify(value)) + (key === null ? 0 : Buffer.byteLength(JSON.stringify(key))) > DEAD_LETTER_VALUE_MAX_BYTES) {
    valueOmitted = { bytes: record.value!.length, sha256: createHash('sha256').update(record.value!).digest('hex') };
    value = null;
  }
  return makeEnvelope({
    id: deriveId('dead-letter', consumer, record.topic, record.partition, record.offset),
    type: 'DeadLettered',
    alias: key !== null && key.length > 0 && key.length <= ALIAS_MAX ? key : position,
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
        key,
        value,
        valueEncoding: text === false ? 'base64' : 'utf8',
        headers: record.headers,
        ...(valueOmitted ? { valueOmitted } : {}),
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
  if (o.valueOmitted) {
    throw new Error(
      `dead letter ${dead.id} does not hold its record's value (${o.valueOmitted.bytes} bytes, too large to keep): the record is still at ${o.topic}[${o.partition}] offset ${o.offset} while the topic keeps it`,
    );
  }
  const value = o.value === null ? null : Buffer.from(o.value, o.valueEncoding === 'base64' ? 'base64' : 'utf8');
  return {
    topic: o.topic,
    partition: o.partition,
    message: { key: o.key, value, headers: { ...o.headers, [HEADERS.redrive]: dead.id, ...(by ? { [HEADERS.redrivenBy]: by } : {}) } },
  };
}
