/**
 * Group commit in the transactional processor, on the real broker: with several partitions decided side by
 * side, the batches of one fetch share one transaction (fewer transactions than batches), every input's
 * output is written exactly once, and a transaction that fails fails for every batch in it: each is decided
 * again and written once.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { ConsumeLoop } from './consume-loop';
import { TransactionalProcessor } from './transactional';

const log = createLogger('transactional-group-test', process.env.LOOP_TEST_LOG ?? 'silent');
const PARTITIONS = 6;
const PER_PARTITION = 20;

let kafka: Kafka;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('transactional-group-test');
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function topic(): Promise<string> {
  const name = `${TOPIC_PREFIX}txgroup.${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [{ name, partitions: PARTITIONS, cleanupPolicy: 'delete', retentionMs: -1 }]);
  return name;
}

/** PER_PARTITION records in every partition, written before the processor starts: its first fetch holds them all. */
async function fill(input: string): Promise<string[]> {
  const values: string[] = [];
  const p = kafka.producer();
  await p.connect();
  try {
    const messages = [];
    for (let partition = 0; partition < PARTITIONS; partition++) {
      for (let i = 0; i < PER_PARTITION; i++) {
        const value = `p${partition}-${i}`;
        values.push(value);
        messages.push({ partition, value });
      }
    }
    await p.send({ topic: input, acks: -1, messages });
  } finally {
    await p.disconnect();
  }
  return values;
}

/** Every committed record of the output topic, as read by a read_committed consumer of its own. */
function readCommitted(output: string): string[] {
  const seen: string[] = [];
  const loop = new ConsumeLoop({
    kafka,
    groupId: `${TOPIC_PREFIX}txgroup-reader-${randomUUID().slice(0, 8)}`,
    topics: [output],
    log,
    commit: 'none',
    consumer: { readUncommitted: false, maxWaitTimeInMs: 100 },
    handleBatch: async (batch) => {
      for (const r of batch.records) seen.push(r.value!.toString());
    },
  });
  void loop.start();
  stops.push(() => loop.stop());
  return seen;
}

async function run(opts: { failFirstCommit: boolean }) {
  const input = await topic();
  const output = await topic();
  const values = await fill(input);
  let transactions = 0;
  let batchesCommitted = 0;
  let firstsOfTransactions = 0;
  let failed = 0;
  const processor = new TransactionalProcessor({
    kafka,
    groupId: `${TOPIC_PREFIX}txgroup-${randomUUID().slice(0, 8)}`,
    topic: input,
    transactionalId: `${TOPIC_PREFIX}txgroup-${randomUUID().slice(0, 8)}`,
    log,
    partitionsConcurrently: PARTITIONS,
    retry: { minBackoffMs: 50, maxBackoffMs: 400 },
    handleBatch: (records, partition) => ({
      outputs: [{ topic: output, messages: records.map((r) => ({ partition, value: r.value!.toString() })) }],
    }),
    beforeCommit: async () => {
      transactions += 1;
      if (opts.failFirstCommit && failed === 0) {
        failed += 1;
        throw new Error('injected: the first transaction fails before its commit');
      }
    },
    onTransaction: (t) => {
      batchesCommitted += 1;
      if (t.firstOfTransaction) firstsOfTransactions += 1;
    },
  });
  stops.push(() => processor.stop());
  await processor.start();
  const seen = readCommitted(output);
  await waitFor(() => seen.length >= values.length, { timeoutMs: 90_000, what: 'every output committed' });
  // Nothing more arrives: each input's output exactly once.
  await new Promise((r) => setTimeout(r, 1_000));
  return { values, seen, transactions, batchesCommitted, firstsOfTransactions, failed };
}

test('the batches of one fetch share a transaction, and each output is written once', async () => {
  const { values, seen, transactions, batchesCommitted, firstsOfTransactions } = await run({ failFirstCommit: false });
  expect([...seen].sort()).toEqual([...values].sort());
  expect(batchesCommitted).toBeGreaterThanOrEqual(PARTITIONS);
  expect(transactions).toBeLessThan(batchesCommitted);
  // Per-transaction figures (produce calls) are counted on one batch of each transaction, not on every batch in it.
  expect(firstsOfTransactions).toBe(transactions);
});

test('a failed shared transaction is decided again for every batch in it, each output still written once', async () => {
  const { values, seen, failed } = await run({ failFirstCommit: true });
  expect(failed).toBe(1);
  expect([...seen].sort()).toEqual([...values].sort());
});
