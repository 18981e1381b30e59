/**
 * A member whose process froze for longer than the session timeout, on the real broker. The group coordinator has
 * dropped it meanwhile, and another member may have taken its partition and decided the same records: neither the
 * broker (KafkaJS's TxnOffsetCommit carries no generation) nor the new owner's producer (another transactional id)
 * fences it. So on waking it must not commit the batch it decided before the freeze: the transaction is aborted and
 * the batch decided again once the member is back in the group, its outputs written once.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { TransactionalProcessor } from './transactional';

const log = createLogger('transactional-lapsed-test', process.env.LOOP_TEST_LOG ?? 'silent');
const SESSION_TIMEOUT_MS = 6_000;

let kafka: Kafka;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('transactional-lapsed-test');
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** Blocks the whole process, as a pause of it does: no timer, no heartbeat, no answer read. */
function freeze(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    /* frozen */
  }
}

test('a batch decided before a freeze longer than the session timeout is not committed on waking: decided again, written once', async () => {
  const id = randomUUID().slice(0, 8);
  const input = `${TOPIC_PREFIX}txlapsed.in.${id}`;
  const output = `${TOPIC_PREFIX}txlapsed.out.${id}`;
  await ensureTopics(kafka, [
    { name: input, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  const handled: string[] = [];
  let frozen = false;
  const processor = new TransactionalProcessor({
    kafka,
    groupId: `txlapsed-${id}`,
    topic: input,
    transactionalId: `txlapsed-${id}`,
    log,
    sessionTimeout: SESSION_TIMEOUT_MS,
    heartbeatInterval: 500,
    handleBatch: (records) => {
      handled.push(...records.map((r) => r.value?.toString() ?? ''));
      if (!frozen) {
        frozen = true;
        freeze(SESSION_TIMEOUT_MS + 2_000);
      }
      return { outputs: [{ topic: output, messages: records.map((r) => ({ partition: 0, value: `decided ${r.value?.toString()}` })) }] };
    },
  });
  stops.push(() => processor.stop());
  await processor.start();
  await processor.ready;

  const producer = kafka.producer();
  await producer.connect();
  stops.push(() => producer.disconnect());
  await producer.send({ topic: input, acks: -1, messages: [{ partition: 0, value: 'r0' }] });

  const written = async () => (await readTopic(kafka, output)).map((r) => r.value);
  await waitFor(async () => (await written()).length > 0, { timeoutMs: 60_000, what: 'the output written' });
  await producer.send({ topic: input, acks: -1, messages: [{ partition: 0, value: 'r1' }] });
  await waitFor(async () => (await written()).includes('decided r1'), { timeoutMs: 30_000, what: 'the next record decided' });

  expect(await written()).toEqual(['decided r0', 'decided r1']);
  // Decided before the freeze, and again after it: the first decision's transaction was not committed.
  expect(handled.filter((v) => v === 'r0').length).toBeGreaterThanOrEqual(2);
}, 120_000);
