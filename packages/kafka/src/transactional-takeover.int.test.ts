/**
 * A member taking over a partition, on the real broker, while the previous owner's last transaction still has its
 * offsets pending (sent, not yet committed or not yet moved into the group's offsets by the broker). The member must
 * take its floors from what that transaction leaves, not from the offsets before it: else it decides the inputs the
 * transaction handled a second time. See stable-offsets.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { retryConcurrentTransactions, TransactionalProcessor } from './transactional';

const log = createLogger('transactional-takeover-test', process.env.LOOP_TEST_LOG ?? 'silent');

let kafka: Kafka;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('transactional-takeover-test');
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

test.each([
  ['commits', ['r5', 'r6', 'r7', 'r8', 'r9']],
  ['aborts', ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']],
] as const)('a partition taken over while the previous owner\'s transaction is pending: decided from where it leaves the offsets when it %s', async (outcome, expected) => {
  const id = randomUUID().slice(0, 8);
  const input = `${TOPIC_PREFIX}txtakeover.in.${id}`;
  const output = `${TOPIC_PREFIX}txtakeover.out.${id}`;
  const groupId = `txtakeover-${id}`;
  await ensureTopics(kafka, [
    { name: input, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  const producer = kafka.producer();
  await producer.connect();
  stops.push(() => producer.disconnect());
  await producer.send({ topic: input, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `r${i}` })) });

  // The previous owner: its last transaction decided r0–r4 and sent offset 5 for the group, and has not settled yet.
  const previous = kafka.producer({ transactionalId: `txtakeover-previous-${id}`, idempotent: true, maxInFlightRequests: 1 });
  await previous.connect();
  stops.push(() => previous.disconnect());
  const tx = await previous.transaction();
  await tx.send({ topic: output, messages: [{ partition: 0, value: 'decided r0-r4' }] });
  await retryConcurrentTransactions(() => tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: 0, offset: '5' }] }] }));

  const handled: string[] = [];
  const processor = new TransactionalProcessor({
    kafka,
    groupId,
    topic: input,
    transactionalId: `txtakeover-${id}`,
    log,
    handleBatch: (records) => {
      handled.push(...records.map((r) => r.value?.toString() ?? ''));
      return { outputs: [{ topic: output, messages: records.map((r) => ({ partition: 0, value: `decided ${r.value?.toString()}` })) }] };
    },
  });
  stops.push(() => processor.stop());
  await processor.start();
  // The member holds the partition; it decides nothing while the previous owner's offsets are pending.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(handled).toEqual([]);
  expect(processor.isReady).toBe(false);

  if (outcome === 'commits') await tx.commit();
  else await tx.abort();
  await processor.ready;
  await waitFor(() => handled.includes('r9'), { timeoutMs: 30_000, what: 'the last record decided' });
  expect(handled).toEqual(expected);
}, 90_000);
