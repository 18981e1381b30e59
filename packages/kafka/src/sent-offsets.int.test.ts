/**
 * Offsets sent in a transaction that aborts, on the real broker: a consumer of the group, from the same client, must
 * still start from the group's committed offsets (see sent-offsets.ts). KafkaJS 2.2.4 alone starts it from the aborted
 * transaction's offsets, past records nothing handled.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { installSentOffsetsGuard } from './sent-offsets';

let kafka: Kafka;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('sent-offsets-test');
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

test('a paused partition resumes from the committed offset, not from the offsets of a transaction that aborted', async () => {
  expect(installSentOffsetsGuard()).toBe(true);
  const topic = `${TOPIC_PREFIX}sent-offsets.${randomUUID().slice(0, 8)}`;
  const groupId = `${TOPIC_PREFIX}sent-offsets-${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [{ name: topic, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
  const writer = kafka.producer();
  await writer.connect();
  stops.push(() => writer.disconnect());
  await writer.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })) });

  // The group has no committed offset: the consumer starts from the beginning. Its partition is paused as it joins,
  // so it reads the group's offsets on its first fetch and fetches nothing, as the router's consumer does with a
  // partition whose batch is still committing when the group joins again.
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  stops.push(() => consumer.disconnect());
  let fetches = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => consumer.pause([{ topic }]));
  consumer.on(consumer.events.FETCH, () => void (fetches += 1));
  const seen: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) seen.push(`${m.offset}:${m.value!.toString()}`);
    },
  });
  await waitFor(() => fetches >= 2, { timeoutMs: 30_000, what: 'fetches with the partition paused' });

  // A transaction of the same client sends offset 5 for the group, then aborts: offset 5 was never committed.
  const tx = kafka.producer({ transactionalId: `${TOPIC_PREFIX}sent-offsets-${randomUUID().slice(0, 8)}`, idempotent: true, maxInFlightRequests: 1 });
  await tx.connect();
  stops.push(() => tx.disconnect());
  const transaction = await tx.transaction();
  await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '5' }] }] });
  await transaction.abort();
  const admin = kafka.admin();
  await admin.connect();
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] }).finally(() => admin.disconnect());
  expect(committed[0]!.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '-1' })]);

  consumer.resume([{ topic }]);
  await waitFor(() => seen.some((s) => s.startsWith('9:')), { timeoutMs: 30_000, what: 'the last record' });
  // Every record, from the first: none skipped to where the aborted transaction pointed.
  expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `${i}:r${i}`));
});
