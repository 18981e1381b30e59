/**
 * Stable offsets on the real broker (see stable-offsets.ts): while a transaction's offsets for a partition are
 * pending, a plain OffsetFetch answers the offset from before it, and `StableOffsets.fetch` waits until the
 * transaction has settled, then answers what it left: its offsets when it committed, the earlier ones when it aborted.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, Producer, Transaction } from 'kafkajs';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { ensureTopics } from './admin';
import { StableOffsets, UnstableOffsetsError } from './stable-offsets';
import { retryConcurrentTransactions } from './transactional';

let kafka: Kafka;
let offsets: StableOffsets;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('stable-offsets-test');
  offsets = new StableOffsets(kafka);
  await offsets.admin.connect();
  stops.push(() => offsets.admin.disconnect());
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function setUp(): Promise<{ topic: string; groupId: string; producer: Producer }> {
  const topic = `${TOPIC_PREFIX}stable-offsets.${randomUUID().slice(0, 8)}`;
  const groupId = `${TOPIC_PREFIX}stable-offsets-${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [{ name: topic, partitions: 2, cleanupPolicy: 'delete', retentionMs: -1 }]);
  const producer = kafka.producer({ transactionalId: `${TOPIC_PREFIX}stable-offsets-${randomUUID().slice(0, 8)}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  stops.push(() => producer.disconnect());
  // Offset 3 of partition 0 committed by an earlier transaction.
  const first = await producer.transaction();
  await first.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '3' }] }] });
  await first.commit();
  return { topic, groupId, producer };
}

async function pendingAt7(producer: Producer, topic: string, groupId: string): Promise<Transaction> {
  const tx = await producer.transaction();
  // The earlier transaction's markers may still be being written (CONCURRENT_TRANSACTIONS meanwhile).
  await retryConcurrentTransactions(() => tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: '7' }] }] }));
  return tx;
}

async function plainFetch(groupId: string, topic: string): Promise<string | undefined> {
  const got = await offsets.admin.fetchOffsets({ groupId, topics: [topic] });
  return got[0]?.partitions.find((p) => p.partition === 0)?.offset;
}

function track<T>(p: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const promise = p.finally(() => (settled = true));
  promise.catch(() => undefined);
  return { settled: () => settled, promise };
}

test('a stable fetch waits while a transaction\'s offsets are pending and then answers the ones it committed', async () => {
  expect(offsets.stable).toBe(true);
  const { topic, groupId, producer } = await setUp();
  expect(await offsets.fetch(groupId, [{ topic, partitions: [0, 1] }])).toEqual([
    { topic, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '-1' }] },
  ]);

  const tx = await pendingAt7(producer, topic, groupId);
  const waits: string[][] = [];
  const fetching = track(offsets.fetch(groupId, [{ topic, partitions: [0, 1] }], { onWait: (pending) => waits.push(pending) }));
  // KafkaJS's own OffsetFetch answers the offset from before the open transaction...
  expect(await plainFetch(groupId, topic)).toBe('3');
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  // ...the stable fetch has not answered anything yet, and it said which partition it waits for.
  expect(fetching.settled()).toBe(false);
  expect(waits[0]).toEqual([`${topic}/0`]);

  await tx.commit();
  expect(await fetching.promise).toEqual([{ topic, partitions: [{ partition: 0, offset: '7' }, { partition: 1, offset: '-1' }] }]);
});

test('a stable fetch answers the earlier offsets once the pending transaction aborts', async () => {
  const { topic, groupId, producer } = await setUp();
  const tx = await pendingAt7(producer, topic, groupId);
  const fetching = track(offsets.fetch(groupId, [{ topic, partitions: [0] }]));
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(fetching.settled()).toBe(false);
  await tx.abort();
  expect(await fetching.promise).toEqual([{ topic, partitions: [{ partition: 0, offset: '3' }] }]);
});

test('a stable fetch stops at its bound (throwing, or with the plain offsets when asked), or when cancelled, naming the pending partition', async () => {
  const { topic, groupId, producer } = await setUp();
  const tx = await pendingAt7(producer, topic, groupId);
  try {
    const bounded = offsets.fetch(groupId, [{ topic, partitions: [0, 1] }], { maxWaitMs: 300 });
    await expect(bounded).rejects.toBeInstanceOf(UnstableOffsetsError);
    await expect(bounded).rejects.toThrow(`offsets of ${topic}/0 still pending in a transaction`);
    let attempts = 0;
    const cancelled = offsets.fetch(groupId, [{ topic, partitions: [0] }], { cancelled: () => (++attempts >= 3 ? new Error('generation moved on') : null) });
    await expect(cancelled).rejects.toThrow('generation moved on');
    // Or, asked so, past its bound it answers the offsets committed so far and says which partition was pending.
    const told: string[][] = [];
    expect(await offsets.fetch(groupId, [{ topic, partitions: [0, 1] }], { maxWaitMs: 300, plainAfterWait: true, onPlain: (p) => told.push(p) })).toEqual([
      { topic, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '-1' }] },
    ]);
    expect(told).toEqual([[`${topic}/0`]]);
    // A partition with nothing pending is answered at once, whatever another partition has pending.
    expect(await offsets.fetch(groupId, [{ topic, partitions: [1] }], { maxWaitMs: 0 })).toEqual([{ topic, partitions: [{ partition: 1, offset: '-1' }] }]);
  } finally {
    await tx.abort();
  }
});
