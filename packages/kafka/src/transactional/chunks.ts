import type { Message, TopicMessages } from 'kafkajs';

/** What a record costs in a produce request besides its value and key: its headers and the record's own framing. */
export function recordSize(message: Message): number {
  const bytes = (v: unknown) => (v === null || v === undefined ? 0 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v)));
  let n = 70 + bytes(message.value) + bytes(message.key);
  for (const [k, v] of Object.entries(message.headers ?? {})) n += Buffer.byteLength(k) + bytes(v);
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
