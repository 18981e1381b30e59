/**
 * Batches that write nothing, or that say they may wait (`quietCommitDelayMs`, `mayWait`), on the real broker: their
 * offsets (and records) wait for the next batch that may not wait and commit in its transaction; alone, they commit once
 * the delay is over.
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

/**
 * A processor over a fresh one-partition input. `writes` says which of a batch's records it writes again to an output
 * topic, and `mayWait` whether the batch says it may wait (undefined: the default, only when it writes nothing).
 */
async function processorOn(opts: {
  quietCommitDelayMs: number;
  pipelineDepth: number;
  writes: (value: string) => boolean;
  mayWait?: (values: string[]) => boolean;
}) {
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
    pipelineDepth: opts.pipelineDepth,
    quietCommitDelayMs: opts.quietCommitDelayMs,
    handleBatch: (records) => {
      const values = records.map((r) => r.value?.toString() ?? '');
      handled.push(...values);
      const written = records.filter((r) => opts.writes(r.value?.toString() ?? ''));
      return {
        outputs: written.length > 0 ? [{ topic: output, messages: written.map((r) => ({ value: r.value })) }] : [],
        ...(opts.mayWait ? { mayWait: opts.mayWait(values) } : {}),
      };
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
  return {
    handled,
    send: (value: string) => producer.send({ topic: input, acks: -1, messages: [{ partition: 0, value }] }),
    committed: async () => (await admin.fetchOffsets({ groupId, topics: [input] }))[0]!.partitions.find((p) => p.partition === 0)!.offset,
    transactionsSoFar: () => transactions.filter((t) => t.firstOfTransaction).length,
    recordsCommitted: () => transactions.reduce((n, t) => n + t.records, 0),
    outputsCommitted: () => transactions.reduce((n, t) => n + t.outputs, 0),
  };
}

test('a batch that writes nothing commits in the next transaction that writes something, or alone after the delay', async () => {
  const p = await processorOn({ quietCommitDelayMs: 3_000, pipelineDepth: 2, writes: (v) => v.startsWith('loud') });
  await p.send('quiet-1');
  await waitFor(() => p.handled.includes('quiet-1'), { timeoutMs: 30_000 });
  // Decided; its offset waits for company. The next record writes something: one transaction carries both.
  await p.send('loud-2');
  await waitFor(async () => (await p.committed()) === '2', { timeoutMs: 30_000 });
  expect(p.transactionsSoFar()).toBe(1);
  expect(p.recordsCommitted()).toBe(2);

  // Alone, a quiet batch still commits (after the delay), in a transaction of its own.
  await p.send('quiet-3');
  await waitFor(async () => (await p.committed()) === '3', { timeoutMs: 30_000 });
  expect(p.transactionsSoFar()).toBe(2);
}, 90_000);

/**
 * Every record is written again; a batch of records starting `state` says it may wait (as the router's thread links and
 * their state), any other may not (an alert).
 */
const stateProcessor = (quietCommitDelayMs: number) =>
  processorOn({ quietCommitDelayMs, pipelineDepth: 6, writes: () => true, mayWait: (values) => values.every((v) => v.startsWith('state')) });

test('batches that may wait share the transaction of the next that may not, which goes at once', async () => {
  // Far longer than the test: whatever commits here does so because a batch that may not wait came.
  const p = await stateProcessor(600_000);
  await p.send('state-1');
  await waitFor(() => p.handled.includes('state-1'), { timeoutMs: 30_000 });
  await p.send('state-2');
  await waitFor(() => p.handled.includes('state-2'), { timeoutMs: 30_000 });
  expect(p.transactionsSoFar()).toBe(0);
  expect(await p.committed()).toBe('-1');
  // An alert, say: it starts a transaction at once, and the waiting records go in it.
  await p.send('alert-3');
  await waitFor(async () => (await p.committed()) === '3', { timeoutMs: 30_000 });
  expect(p.transactionsSoFar()).toBe(1);
  expect(p.recordsCommitted()).toBe(3);
  expect(p.outputsCommitted()).toBe(3);
}, 90_000);

test('batches that may wait commit alone once the delay is over, in fewer transactions than records', async () => {
  const p = await stateProcessor(10_000);
  for (const v of ['state-1', 'state-2', 'state-3']) {
    await p.send(v);
    await waitFor(() => p.handled.includes(v), { timeoutMs: 30_000 });
  }
  await waitFor(async () => (await p.committed()) === '3', { timeoutMs: 30_000 });
  expect(p.outputsCommitted()).toBe(3);
  expect(p.transactionsSoFar()).toBeLessThan(3);
}, 90_000);
