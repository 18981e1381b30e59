/**
 * A batch whose outputs are larger than the broker takes in one produce request (storm summaries: one update per
 * alert, all on the summary's one partition): the transactional processor writes them in several calls inside
 * the batch's one transaction, so the batch commits, exactly once, instead of being refused for its size and
 * retried forever.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { createKafka } from './client';
import { TransactionalProcessor, type TransactionInfo, type TransactionalProcessorOptions } from './transactional';

const log = createLogger('txn-split-test', process.env.TXN_TEST_LOG ?? 'silent');
let kafka: Kafka;
let input: string;
let output: string;
/** The output topic's max.message.bytes as the broker reports it: one partition's records in one request stay below it. */
let limit: number;

const INPUTS = 60;
const OUTPUTS_PER_INPUT = 4;

beforeAll(async () => {
  kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'txn-split-test', log });
  input = `${TOPIC_PREFIX}split.in.${randomUUID().slice(0, 8)}`;
  output = `${TOPIC_PREFIX}split.out.${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [
    { name: input, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: output, configNames: ['max.message.bytes'] }] });
    limit = Number(described.resources[0]!.configEntries[0]!.configValue);
  } finally {
    await admin.disconnect();
  }
  expect(limit).toBeGreaterThan(0);
  const producer = kafka.producer();
  await producer.connect();
  try {
    // All inputs are there before the processor starts, so its first batches hold many of them.
    await producer.send({ topic: input, acks: -1, messages: Array.from({ length: INPUTS }, (_, i) => ({ key: `k${i}`, value: String(i) })) });
  } finally {
    await producer.disconnect();
  }
});

/** Each input becomes OUTPUTS_PER_INPUT records, together a tenth of the limit: any batch of 10 or more inputs is over it. */
function processor(opts: Partial<TransactionalProcessorOptions>, transactions: TransactionInfo[], errors: Error[]): TransactionalProcessor {
  const size = Math.ceil(limit / 10 / OUTPUTS_PER_INPUT);
  return new TransactionalProcessor({
    kafka,
    groupId: `${TOPIC_PREFIX}split-${randomUUID().slice(0, 8)}`,
    topic: input,
    transactionalId: `${TOPIC_PREFIX}split-${randomUUID().slice(0, 8)}`,
    log,
    retry: { minBackoffMs: 100, maxBackoffMs: 500 },
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    handleBatch: (records) => ({
      outputs: [
        {
          topic: output,
          messages: records.flatMap((r) =>
            Array.from({ length: OUTPUTS_PER_INPUT }, (_, j) => ({ key: 'storm', value: `${r.value!.toString()}/${j}/${'x'.repeat(size)}` })),
          ),
        },
      ],
    }),
    onTransaction: (t) => transactions.push(t),
    onRetry: (err) => errors.push(err),
    ...opts,
  });
}

test('outputs of one batch larger than the broker takes in one request are written in several calls, in order, exactly once', async () => {
  const transactions: TransactionInfo[] = [];
  const errors: Error[] = [];
  const p = processor({}, transactions, errors);
  await p.start();
  try {
    await waitFor(() => transactions.reduce((n, t) => n + t.records, 0) >= INPUTS, { timeoutMs: 90_000, what: 'every input committed' });
  } finally {
    await p.stop();
  }
  const written = await readTopic(kafka, output);
  // Every output once, in the order decided (input by input, then its own outputs).
  expect(written.map((r) => r.value!.split('/').slice(0, 2).join('/'))).toEqual(
    Array.from({ length: INPUTS }, (_, i) => Array.from({ length: OUTPUTS_PER_INPUT }, (_, j) => `${i}/${j}`)).flat(),
  );
  expect(errors).toEqual([]);
  // At least one batch's outputs were over the limit, and went out in several calls.
  const big = transactions.filter((t) => t.records >= 10);
  expect(big.length).toBeGreaterThan(0);
  expect(big.every((t) => t.produceCalls > 1)).toBe(true);
  process.stderr.write(
    `[txn split] max.message.bytes ${limit}; ${transactions.length} transactions of ${transactions.map((t) => `${t.records} inputs → ${t.outputs} outputs in ${t.produceCalls} calls`).join(', ')}\n`,
  );
});

test('without the split, the same batch is refused by the broker for its size and nothing is written (what the split prevents)', async () => {
  const transactions: TransactionInfo[] = [];
  const errors: Error[] = [];
  const p = processor({ produceLimits: { maxBytes: 1 << 30, maxRecords: 1 << 30 } }, transactions, errors);
  await p.start();
  try {
    await waitFor(() => errors.length > 0, { timeoutMs: 90_000, what: 'the broker refusing the oversized batch' });
  } finally {
    await p.stop();
  }
  expect(errors[0]!.message).toMatch(/too large|MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|larger than/i);
  expect(transactions.filter((t) => t.records >= 10)).toEqual([]);
});
