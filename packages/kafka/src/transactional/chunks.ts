import type { Message, TopicMessages } from 'kafkajs';

/** Bytes of a key, value or header value as it goes on the wire. */
function bytesOf(v: unknown): number {
  return v === null || v === undefined ? 0 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v));
}

/**
 * What a record costs in a produce request besides its value and key: its headers and the record's own framing.
 * Called for every record ingest and the router write: no closure made per call (under tsx each named one is also
 * given its name at run time), no entries array.
 */
export function recordSize(message: Message): number {
  let n = 70 + bytesOf(message.value) + bytesOf(message.key);
  const headers = message.headers;
  if (headers) for (const k in headers) if (Object.prototype.hasOwnProperty.call(headers, k)) n += Buffer.byteLength(k) + bytesOf(headers[k]);
  return n;
}

export interface ChunkLimits {
  /** Largest estimated size of one produce call (all its topics and partitions together). */
  maxBytes: number;
  /** Largest number of records in one produce call. */
  maxRecords: number;
}

/**
 * Splits a transaction's outputs into produce calls of at most `maxBytes` and `maxRecords` each, in order:
 * the calls go out one after the other, so every partition receives its records in the order given. A
 * record larger than `maxBytes` goes alone (the broker decides whether it takes it).
 */
export function chunkOutputs(outputs: readonly TopicMessages[], limits: ChunkLimits): TopicMessages[][] {
  const chunks: TopicMessages[][] = [];
  let current: TopicMessages[] = [];
  let bytes = 0;
  let records = 0;
  for (const { topic, messages } of outputs) {
    let open: TopicMessages | undefined;
    for (const message of messages) {
      const size = recordSize(message);
      if (records > 0 && (bytes + size > limits.maxBytes || records + 1 > limits.maxRecords)) {
        chunks.push(current);
        current = [];
        bytes = 0;
        records = 0;
        open = undefined;
      }
      if (!open) current.push((open = { topic, messages: [] }));
      open.messages.push(message);
      bytes += size;
      records += 1;
    }
  }
  if (records > 0) chunks.push(current);
  return chunks;
}
