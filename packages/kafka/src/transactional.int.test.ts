/**
 * KafkaJS's rough edge with sendOffsets (tulios/kafkajs#430), provoked on a real broker: a transaction whose
 * first call is sendOffsets, right after the previous commit, meets CONCURRENT_TRANSACTIONS while the
 * coordinator is still writing the previous commit's markers; KafkaJS passes it on, the wrapper retries it.
 */
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { createKafka } from './client';
import { isConcurrentTransactionsError, retryConcurrentTransactions } from './transactional';

let kafka: Kafka;
let admin: ReturnType<Kafka['admin']>;
const topic = `${process.env.KAFKA_TOPIC_PREFIX}txn-probe`;
const groupId = `${process.env.KAFKA_TOPIC_PREFIX}txn-probe-group`;

async function transactionalProducer(id: string): Promise<Producer> {
  const p = kafka.producer({
    transactionalId: `${process.env.KAFKA_TOPIC_PREFIX}${id}`,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { initialRetryTime: 25, retries: 10, maxRetryTime: 2_000 },
  });
  await p.connect();
  return p;
}

async function committedOffset(): Promise<string> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return t!.partitions.find((p) => p.partition === 0)!.offset;
}

beforeAll(async () => {
  kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'txn-probe' });
  admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
});

afterAll(async () => {
  await admin.disconnect();
});

test('bare KafkaJS: sendOffsets right after a commit either works or fails with CONCURRENT_TRANSACTIONS', async () => {
  const p = await transactionalProducer('txn-probe-raw');
  const errors: string[] = [];
  try {
    for (let i = 1; i <= 30; i++) {
      const tx = await p.transaction();
      try {
        await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: String(i) }] }] });
        await tx.commit();
      } catch (err) {
        errors.push((err as { type?: string }).type ?? (err as Error).message);
        expect(isConcurrentTransactionsError(err)).toBe(true);
        await tx.abort();
      }
    }
  } finally {
    await p.disconnect();
  }
  process.stderr.write(`[txn probe] bare sendOffsets: ${errors.length} of 30 transactions met CONCURRENT_TRANSACTIONS\n`);
  expect(errors.every((t) => t === 'CONCURRENT_TRANSACTIONS')).toBe(true);
});

test('with retryConcurrentTransactions every transaction commits, in order', async () => {
  const p = await transactionalProducer('txn-probe-retry');
  let retries = 0;
  try {
    for (let i = 101; i <= 150; i++) {
      const tx = await p.transaction();
      await retryConcurrentTransactions(
        () => tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic, partitions: [{ partition: 0, offset: String(i) }] }] }),
        { onRetry: () => (retries += 1) },
      );
      await tx.commit();
    }
  } finally {
    await p.disconnect();
  }
  // commit() returns once the coordinator logged the decision; the offsets become visible to OffsetFetch a
  // moment later, when the commit markers reach __consumer_offsets. So poll instead of reading once.
  const deadline = Date.now() + 30_000;
  while ((await committedOffset()) !== '150' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(await committedOffset()).toBe('150');
  process.stderr.write(`[txn probe] with the wrapper: 50 commits, ${retries} CONCURRENT_TRANSACTIONS retried in place\n`);
});
