/**
 * Batches that write nothing (`quietCommitDelayMs`), on the real broker: their offsets wait for the next batch that
 * writes something and commit in its transaction; alone, they commit once the delay is over.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { TransactionalProcessor, type TransactionInfo } from './transactional';

const log = createLogger('transactional-quiet-test', process.env.LOOP_TEST_LOG ?? 'silent');

let kafka: Kafka;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('transactional-quiet-test');
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

test('a batch that writes nothing commits in the next transaction that writes something, or alone after the delay', async () => {
  const id = randomUUID().slice(0, 8);
  const input = `${TOPIC_PREFIX}txquiet.in.${id}`;
  const output = `${TOPIC_PREFIX}txquiet.out.${id}`;
  const groupId = `txquiet-${id}`;
  await ensureTopics(kafka, [
    { name: input, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  const handled: string[] = [];
  const transactions: TransactionInfo[] = [];
  const processor = new TransactionalProcessor({
    kafka,
    groupId,
    topic: input,
    transactionalId: `txquiet-${id}`,
    log,
    pipelineDepth: 2,
    quietCommitDelayMs: 3_000,
    handleBatch: (records) => {
      handled.push(...records.map((r) => r.value?.toString() ?? ''));
      const loud = records.filter((r) => r.value?.toString().startsWith('loud'));
      return { outputs: loud.length > 0 ? [{ topic: output, messages: loud.map((r) => ({ value: r.value })) }] : [] };
    },
    onTransaction: (t) => transactions.push(t),
  });
  stops.push(() => processor.stop());
  await processor.start();
  await processor.ready;

  const producer = kafka.producer();
  await producer.connect();
  stops.push(() => producer.disconnect());
  const admin = kafka.admin();
  await admin.connect();
  stops.push(() => admin.disconnect());
  const committed = async () => (await admin.fetchOffsets({ groupId, topics: [input] }))[0]!.partitions.find((p) => p.partition === 0)!.offset;
  const transactionsSoFar = () => transactions.filter((t) => t.firstOfTransaction).length;

  await producer.send({ topic: input, acks: -1, messages: [{ partition: 0, value: 'quiet-1' }] });
  await waitFor(() => handled.includes('quiet-1'), { timeoutMs: 30_000 });
  // Decided; its offset waits for company. The next record writes something: one transaction carries both.
  await producer.send({ topic: input, acks: -1, messages: [{ partition: 0, value: 'loud-2' }] });
  await waitFor(async () => (await committed()) === '2', { timeoutMs: 30_000 });
  expect(transactionsSoFar()).toBe(1);
  expect(transactions.reduce((n, t) => n + t.records, 0)).toBe(2);

  // Alone, a quiet batch still commits (after the delay), in a transaction of its own.
  await producer.send({ topic: input, acks: -1, messages: [{ partition: 0, value: 'quiet-3' }] });
  await waitFor(async () => (await committed()) === '3', { timeoutMs: 30_000 });
  expect(transactionsSoFar()).toBe(2);
}, 90_000);
