/**
 * The transactional processor's `fetch.maxBatchBytes`, on the real broker: a backlog is handed over in batches of at
 * most that many bytes of records (the router's ROUTER_FETCH_BATCH_BYTES), not as one batch of everything a fetch may
 * take of the partition (KafkaJS's 1 MiB), since a processor holds each batch until its transaction commits.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { TransactionalProcessor } from './transactional';

const log = createLogger('transactional-fetch-bytes-test', process.env.LOOP_TEST_LOG ?? 'silent');

let kafka: Kafka;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('transactional-fetch-bytes-test');
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

const RECORDS = 64;
const RECORD_BYTES = 1024;
const MAX_BATCH_BYTES = 8 * 1024;

test('a backlog comes in batches of at most maxBatchBytes of records, each record once and in order', async () => {
  const id = randomUUID().slice(0, 8);
  const input = `${TOPIC_PREFIX}txbytes.in.${id}`;
  const output = `${TOPIC_PREFIX}txbytes.out.${id}`;
  await ensureTopics(kafka, [
    { name: input, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  // The whole backlog is there before the processor starts, one record per send (so one record batch each, which the
  // broker can stop between): a single fetch could take all 64 KiB of it.
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < RECORDS; i++) {
    await producer.send({ topic: input, acks: -1, messages: [{ partition: 0, value: `${String(i).padStart(4, '0')}${'x'.repeat(RECORD_BYTES - 4)}` }] });
  }
  await producer.disconnect();

  const batches: Array<Array<{ seq: string; bytes: number }>> = [];
  const p = new TransactionalProcessor({
    kafka,
    groupId: `${TOPIC_PREFIX}txbytes-${id}`,
    topic: input,
    transactionalId: `${TOPIC_PREFIX}txbytes-${id}`,
    log,
    markerKey: '__txbytes_marker__',
    pipelineDepth: 2,
    sessionTimeout: 10_000,
    retry: { minBackoffMs: 50, maxBackoffMs: 400 },
    fetch: { lingerMs: 20, maxBatchBytes: MAX_BATCH_BYTES },
    handleBatch: (records, partition) => {
      batches.push(records.map((r) => ({ seq: r.value!.subarray(0, 4).toString(), bytes: r.value!.length })));
      return { outputs: [{ topic: output, messages: records.map((r) => ({ partition, value: r.value!.subarray(0, 4) })) }] };
    },
  });
  stops.push(() => p.stop());
  await p.start();
  await waitFor(() => batches.flat().length >= RECORDS, { what: 'every record handled' });

  expect(batches.flat().map((r) => r.seq)).toEqual(Array.from({ length: RECORDS }, (_, i) => String(i).padStart(4, '0')));
  const largest = Math.max(...batches.map((b) => b.reduce((sum, r) => sum + r.bytes, 0)));
  expect(largest).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  expect(batches.length).toBeGreaterThanOrEqual(RECORDS / (MAX_BATCH_BYTES / RECORD_BYTES));
});
