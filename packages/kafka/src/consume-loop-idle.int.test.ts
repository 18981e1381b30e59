/**
 * The consume loop's fetch wait against the real broker of the test run: an idle loop lets the broker hold its fetch
 * for the idle wait instead of asking ten times a second, and the long hold delays nothing: a record committed in a
 * transaction while the fetch is held, and a partition resumed after a deferred batch, are handed over without
 * waiting it out. The holds here are ten minutes, far beyond the tests' own limits, so a slow machine cannot pass a
 * hold off as an answer.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { ConsumeLoop, type ConsumeLoopOptions } from './consume-loop';
import type { ConsumedRecord } from './records';

const log = createLogger('consume-loop-idle-test', process.env.LOOP_TEST_LOG ?? 'silent');
const TEN_MINUTES = 600_000;

let kafka: Kafka;
const loops: ConsumeLoop[] = [];
/** Fetch requests answered, and fetches started, by every consumer the loops made. */
const fetches = { answered: 0, started: 0 };

beforeAll(async () => {
  kafka = await testKafka('consume-loop-idle-test');
  const consumer = kafka.consumer.bind(kafka);
  kafka.consumer = (config) => {
    const c: Consumer = consumer(config);
    c.on(c.events.REQUEST, (e) => {
      if (e.payload.apiName === 'Fetch') fetches.answered += 1;
    });
    c.on(c.events.FETCH_START, () => (fetches.started += 1));
    return c;
  };
});

afterAll(async () => {
  await Promise.all(loops.map((l) => l.stop()));
});

async function topic(partitions: number): Promise<string> {
  const name = `${TOPIC_PREFIX}idle.${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [{ name, partitions, cleanupPolicy: 'delete', retentionMs: -1 }]);
  return name;
}

function loop(opts: Partial<ConsumeLoopOptions> & Pick<ConsumeLoopOptions, 'topics' | 'handleBatch'>): ConsumeLoop {
  const l = new ConsumeLoop({ kafka, groupId: `${TOPIC_PREFIX}idle-${randomUUID().slice(0, 8)}`, log, commit: 'none', ...opts });
  loops.push(l);
  return l;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops a loop whose fetch the broker holds for ten minutes: a record on each partition ends the hold. */
async function stopHeld(l: ConsumeLoop, t: string, partitions: number[]): Promise<void> {
  const stopped = l.stop();
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: t, acks: -1, messages: partitions.map((partition) => ({ partition, value: 'end the hold' })) });
  } finally {
    await producer.disconnect();
  }
  await stopped;
}

test('an idle loop fetches about once a second, not ten times', async () => {
  delete process.env.KAFKA_IDLE_FETCH_WAIT_MS;
  const t = await topic(2);
  // The loop's defaults, as the sinks and the router's consumer run it: 100 ms while a partition waits to be resumed.
  const l = loop({ topics: [t], handleBatch: async () => undefined });
  await l.start();
  await waitFor(() => fetches.answered > 0, { timeoutMs: 30_000, what: 'a first fetch' });
  const before = fetches.answered;
  await sleep(3_000);
  // One a second gives 3 or 4; a slower machine makes fewer. The 100 ms wait alone gave about 30.
  expect(fetches.answered - before).toBeLessThanOrEqual(5);
  await l.stop();
});

test('a record committed in a transaction while the fetch is held is handed over without waiting the hold out', async () => {
  const t = await topic(1);
  const got: ConsumedRecord[] = [];
  const l = loop({
    topics: [t],
    consumer: { readUncommitted: false, idleMaxWaitTimeInMs: TEN_MINUTES },
    handleBatch: async (batch) => void got.push(...batch.records),
  });
  const started = fetches.started;
  await l.start();
  await waitFor(() => fetches.started > started, { timeoutMs: 30_000, what: 'a fetch under way' });
  // Give the fetch time to reach the broker and be held (if it has not yet, it finds the record and the test says less).
  await sleep(1_000);
  const producer = kafka.producer({ transactionalId: `${TOPIC_PREFIX}idle-${randomUUID().slice(0, 8)}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const tx = await producer.transaction();
    await tx.send({ topic: t, acks: -1, messages: [{ key: 'a', value: 'committed' }] });
    await tx.commit();
  } finally {
    await producer.disconnect();
  }
  // The broker completes the held fetch when the commit marker moves the partition's stable offset.
  await waitFor(() => got.length === 1, { timeoutMs: 30_000, what: 'the committed record' });
  expect(got[0]!.value?.toString()).toBe('committed');
  await stopHeld(l, t, [0]);
}, 60_000);

test('a partition resumed after a deferred batch is fetched again without waiting out the idle hold', async () => {
  const t = await topic(2);
  const got: string[] = [];
  const l = loop({
    topics: [t],
    consumer: { maxWaitTimeInMs: 100, idleMaxWaitTimeInMs: TEN_MINUTES },
    handleBatch: async (batch) => {
      got.push(...batch.records.map((r) => r.value!.toString()));
      // The first record's batch settles later, as a transaction's commit does: its partition is paused meanwhile
      // while partition 1, idle, is fetched; were that fetch held for the idle wait, partition 0 would stay unread.
      if (got.length === 1) return { deferred: sleep(300).then(() => undefined) };
    },
  });
  await l.start();
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: t, acks: -1, messages: [{ partition: 0, value: 'first' }] });
    await waitFor(() => got.length === 1, { timeoutMs: 30_000, what: 'the first record' });
    // After the deferred batch settled and the partition was resumed.
    await sleep(1_000);
    await producer.send({ topic: t, acks: -1, messages: [{ partition: 0, value: 'second' }] });
    await waitFor(() => got.length === 2, { timeoutMs: 30_000, what: 'the second record' });
  } finally {
    await producer.disconnect();
  }
  expect(got).toEqual(['first', 'second']);
  await stopHeld(l, t, [0, 1]);
}, 60_000);
