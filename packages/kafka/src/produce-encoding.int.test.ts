/**
 * The one-pass Produce encoder against the real broker of the test run: the broker checks every batch's CRC and
 * framing, and what is read back (keys, values, headers, timestamps) is what was sent, each record in the partition
 * KafkaJS's default partitioner (murmur2, as the Java client) gives its key.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { HEADERS, TOPICS, makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { installProduceEncoder } from './produce-encoding';
import { EventProducer } from './producer';
import type { ConsumedRecord } from './records';
import { partitionOfKey, readRanges, wholeTopicRanges } from './reader';

let kafka: Kafka;

beforeAll(async () => {
  expect(installProduceEncoder()).toBe(true);
  kafka = await testKafka('produce-encoding-test');
});

function alert(alias: string, description: string): AnyEnvelope {
  const at = new Date(Date.UTC(2026, 10, 30, 12, 0, Math.floor(Math.random() * 60))).toISOString();
  return makeEnvelope({
    id: randomUUID(),
    type: 'AlertReceived',
    alias,
    occurredAt: at,
    recordedAt: at,
    source: 'generic',
    causationId: null,
    correlationId: randomUUID(),
    data: { source: 'generic', status: 'firing', title: 'disk full €', severity: 'warning', description, labels: {}, annotations: {}, links: [], raw: {} },
  } as never);
}

it('writes grouped sends that the broker takes and that read back as sent', async () => {
  const producer = new EventProducer(kafka);
  await producer.connect();
  const sent: AnyEnvelope[] = [];
  try {
    // Concurrent sends of one to five events each, grouped into few produce calls across every partition;
    // multi-byte text and a value of several kilobytes on the way.
    const sends = Array.from({ length: 60 }, (_, s) =>
      Array.from({ length: 1 + (s % 5) }, (_, i) => alert(`enc-${s % 17}-${i} ü𝄞`, i === 2 ? 'x€'.repeat(3000) : `send ${s}`)),
    );
    await Promise.all(sends.map((events) => producer.send(events)));
    sent.push(...sends.flat());
    expect(producer.produceCalls).toBeLessThan(sends.length);
  } finally {
    await producer.disconnect();
  }
  const read = new Map<string, ConsumedRecord>();
  await readRanges({
    kafka,
    ranges: await wholeTopicRanges(kafka, [TOPICS.alertsReceived]),
    stallTimeoutMs: 30_000,
    onBatch: (b) => {
      for (const r of b.records) read.set(r.headers[HEADERS.eventId] ?? '', r);
    },
  });
  for (const e of sent) {
    const r = read.get(e.id);
    expect(r).toBeDefined();
    expect(r!.key).toBe(e.alias);
    expect(r!.value!.toString('utf8')).toBe(JSON.stringify(e));
    expect(r!.timestamp).toBe(String(Date.parse(e.recordedAt)));
    expect(r!.headers).toEqual({ [HEADERS.eventType]: 'AlertReceived', [HEADERS.eventId]: e.id, [HEADERS.schemaVersion]: '1' });
  }
  for (const alias of new Set(sent.map((e) => e.alias))) {
    const partitions = new Set(sent.filter((e) => e.alias === alias).map((e) => read.get(e.id)!.partition));
    expect([...partitions]).toEqual([await partitionOfKey(kafka, TOPICS.alertsReceived, alias)]);
  }
});
