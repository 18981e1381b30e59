import { createKafka, ensureTopics, readRanges, wholeTopicRanges } from '@alertbus/kafka';
import { createLogger } from '@alertbus/common';
import { decodeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';

export function testBrokers(): string[] {
  const b = process.env.KAFKA_BROKERS;
  if (!b) throw new Error('KAFKA_BROKERS is not set: the jest global setup starts a broker');
  return b.split(',');
}

export async function testKafka(clientId = 'test'): Promise<Kafka> {
  const kafka = createKafka({ brokers: testBrokers(), clientId, log: createLogger('test', 'silent') });
  await ensureTopics(kafka);
  return kafka;
}

export interface ReadRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
  event?: AnyEnvelope;
}

/**
 * Reads every committed record of a topic from the start up to its current end, with the same reader the audit
 * and the rebuild use (it ends correctly when transaction markers or aborted records occupy the last offsets).
 */
export async function readTopic(kafka: Kafka, topic: string): Promise<ReadRecord[]> {
  const out: ReadRecord[] = [];
  await readRanges({
    kafka,
    ranges: await wholeTopicRanges(kafka, [topic]),
    stallTimeoutMs: 30_000,
    onBatch: (b) => {
      for (const r of b.records) {
        const decoded = decodeEnvelope(r.value, topic);
        out.push({
          topic,
          partition: r.partition,
          offset: r.offset,
          key: r.key,
          value: r.value ? r.value.toString('utf8') : null,
          headers: r.headers,
          event: decoded.ok ? decoded.event : undefined,
        });
      }
    },
  });
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** Like readTopic for several topics at once, with one reader (one group join instead of one per topic). */
export async function readTopics(kafka: Kafka, topics: readonly string[]): Promise<Map<string, ReadRecord[]>> {
  const out = new Map<string, ReadRecord[]>(topics.map((t) => [t, []]));
  await readRanges({
    kafka,
    ranges: await wholeTopicRanges(kafka, [...topics]),
    stallTimeoutMs: 30_000,
    onBatch: (b) => {
      for (const r of b.records) {
        out.get(b.topic)!.push({
          topic: b.topic,
          partition: r.partition,
          offset: r.offset,
          key: r.key,
          value: r.value ? r.value.toString('utf8') : null,
          headers: r.headers,
        });
      }
    },
  });
  for (const list of out.values()) list.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  return out;
}
