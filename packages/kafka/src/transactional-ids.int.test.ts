/**
 * The transactional processor's ids (`TRANSACTIONAL_IDS`), on the real broker: its transactions take turns over all of
 * them, so an id's next transaction comes after its previous commit's markers were written; and a (re)started instance
 * fences every one of them, so nothing a predecessor left open on any of them is ever read.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { isFencedError, TRANSACTIONAL_IDS, TransactionalProcessor, transactionalIdsOf } from './transactional';

const log = createLogger('transactional-ids-test', process.env.LOOP_TEST_LOG ?? 'silent');

let kafka: Kafka;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('transactional-ids-test');
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function topics(): Promise<{ input: string; output: string; id: string }> {
  const id = randomUUID().slice(0, 8);
  const input = `${TOPIC_PREFIX}txids.in.${id}`;
  const output = `${TOPIC_PREFIX}txids.out.${id}`;
  await ensureTopics(kafka, [
    { name: input, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  return { input, output, id };
}

/** One output per input, each input's value passed on. */
function processor(input: string, output: string, transactionalId: string): TransactionalProcessor {
  const p = new TransactionalProcessor({
    kafka,
    groupId: `${TOPIC_PREFIX}txids-${randomUUID().slice(0, 8)}`,
    topic: input,
    transactionalId,
    log,
    pipelineDepth: 2,
    sessionTimeout: 10_000,
    retry: { minBackoffMs: 50, maxBackoffMs: 400 },
    fetch: { lingerMs: 20 },
    handleBatch: (records) => ({ outputs: [{ topic: output, messages: records.map((r) => ({ value: r.value })) }] }),
  });
  stops.push(() => p.stop());
  return p;
}

/** Every committed record of `topic` with the producer id of the batch it came in (a transactional id's producer). */
async function readCommitted(topic: string): Promise<Array<{ value: string; producerId: string }>> {
  const seen: Array<{ value: string; producerId: string }> = [];
  const consumer = kafka.consumer({ groupId: `${TOPIC_PREFIX}txids-reader-${randomUUID().slice(0, 8)}`, readUncommitted: false, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const context = (message as unknown as { batchContext: { producerId: string } }).batchContext;
      seen.push({ value: message.value!.toString(), producerId: context.producerId });
    },
  });
  stops.push(() => consumer.disconnect());
  return seen;
}

async function write(topic: string, value: string): Promise<void> {
  const p = kafka.producer();
  await p.connect();
  try {
    await p.send({ topic, acks: -1, messages: [{ value }] });
  } finally {
    await p.disconnect();
  }
}

test(`consecutive transactions take turns over the instance's ${TRANSACTIONAL_IDS} transactional ids`, async () => {
  const { input, output, id } = await topics();
  const p = processor(input, output, `${TOPIC_PREFIX}txids-${id}`);
  await p.start();
  await p.ready;
  const seen = await readCommitted(output);
  const count = TRANSACTIONAL_IDS * 3;
  // One input at a time, each written once the previous one's output was read: one transaction each.
  for (let i = 0; i < count; i++) {
    await write(input, `v${i}`);
    await waitFor(() => seen.length > i, { timeoutMs: 30_000, what: `output ${i}` });
  }
  expect(seen.map((s) => s.value)).toEqual(Array.from({ length: count }, (_, i) => `v${i}`));
  const producers = seen.map((s) => s.producerId);
  // Each id in turn: as many producers as ids, and each one's next transaction comes TRANSACTIONAL_IDS later.
  expect(new Set(producers).size).toBe(TRANSACTIONAL_IDS);
  producers.forEach((producerId, k) => {
    if (k >= TRANSACTIONAL_IDS) expect(producerId).toBe(producers[k - TRANSACTIONAL_IDS]);
  });
});

test('a started instance fences every one of its transactional ids: what a predecessor left open on the last one is aborted, never read', async () => {
  const { input, output, id } = await topics();
  const transactionalId = `${TOPIC_PREFIX}txids-${id}`;
  const last = transactionalIdsOf(transactionalId).at(-1)!;
  // The predecessor, killed with a transaction open on its last id: one record written, never committed.
  const zombie = kafka.producer({
    transactionalId: last,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60_000,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await zombie.connect();
  stops.push(() => zombie.disconnect());
  const tx = await zombie.transaction();
  await tx.send({ topic: output, acks: -1, messages: [{ value: 'left-open' }] });

  const p = processor(input, output, transactionalId);
  await p.start();
  await p.ready;
  // Fenced: the predecessor can no longer commit what it left open.
  const commit = await tx.commit().then(
    () => null,
    (err: unknown) => err,
  );
  expect(commit).not.toBeNull();
  expect(isFencedError(commit)).toBe(true);
  // And the open transaction was aborted, not left to time out: the new instance's output is readable behind it.
  const seen = await readCommitted(output);
  await write(input, 'after-restart');
  await waitFor(() => seen.length >= 1, { timeoutMs: 30_000, what: 'the new instance output' });
  expect(seen.map((s) => s.value)).toEqual(['after-restart']);
});
