import { createKafka, ensureTopics } from '@alertbus/kafka';
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
  event?: AnyEnvelope;
}

/** Reads every committed record of a topic from the start, up to its current end (no consumer group). */
export async function readTopic(kafka: Kafka, topic: string): Promise<ReadRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const lows = new Map(ends.map((e) => [e.partition, BigInt(e.low)]));
  const out: ReadRecord[] = [];
  if ([...want.entries()].every(([p, h]) => h === lows.get(p))) return out;
  const consumer = kafka.consumer({ groupId: `reader-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const reached = new Set<number>();
  for (const [p, h] of want) if (h === lows.get(p)) reached.add(p);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`readTopic ${topic} timed out`)), 30_000);
    consumer
      .run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const value = m.value ? m.value.toString('utf8') : null;
            const decoded = decodeEnvelope(m.value, topic);
            out.push({
              topic,
              partition: batch.partition,
              offset: m.offset,
              key: m.key ? m.key.toString() : null,
              value,
              event: decoded.ok ? decoded.event : undefined,
            });
          }
          // Transaction markers occupy offsets too: the batch's last offset counts, not the last message's.
          const next = BigInt(batch.lastOffset()) + 1n;
          if (next >= (want.get(batch.partition) ?? 0n) - 1n) {
            // A trailing commit marker means high - 1 may never be delivered; check with the high watermark.
            if (next >= BigInt(batch.highWatermark) - 1n) reached.add(batch.partition);
          }
          if (reached.size === want.size) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
