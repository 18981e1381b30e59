/**
 * Coordinators found once are used again for a while: KafkaJS would otherwise ask the broker before every
 * coordinator request, four lookups per transaction on the transaction's own path.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@alertbus/common';
import { TOPICS } from '@alertbus/schemas';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { createKafka } from './client';

/** Runs `n` transactions (a record, the offsets of a consumer group, commit) and counts the FindCoordinator requests made. */
async function lookupsFor(coordinatorCacheMs: number, n: number): Promise<{ lookups: number; committed: number }> {
  const kafka = createKafka({ brokers: testBrokers(), clientId: `coordinator-cache-${coordinatorCacheMs}`, log: createLogger('test', 'silent'), coordinatorCacheMs });
  const producer = kafka.producer({ transactionalId: `coordinator-cache-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
  let lookups = 0;
  producer.on(producer.events.REQUEST, (e) => {
    if (e.payload.apiName === 'GroupCoordinator') lookups += 1;
  });
  await producer.connect();
  const groupId = `coordinator-cache-group-${randomUUID()}`;
  let committed = 0;
  try {
    lookups = 0; // only the transactions' own lookups
    for (let i = 0; i < n; i++) {
      const tx = await producer.transaction();
      await tx.send({ topic: TOPICS.alertsReceived, acks: -1, messages: [{ key: `k${i}`, value: `v${i}` }] });
      await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: TOPICS.alertsReceived, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
      await tx.commit();
      committed += 1;
    }
  } finally {
    await producer.disconnect();
  }
  return { lookups, committed };
}

beforeAll(async () => {
  await testKafka('coordinator-cache-setup'); // the topics
});

it('a transaction asks for its coordinators only when the cache has none: one lookup per coordinator in the cache time', async () => {
  const { lookups, committed } = await lookupsFor(60_000, 5);
  expect(committed).toBe(5);
  // The transaction coordinator and the group's (the first lookup of each; the producer's connect made none of these).
  expect(lookups).toBeLessThanOrEqual(2);
  expect(lookups).toBeGreaterThanOrEqual(1);
});

it('without the cache every transaction asks again, four times', async () => {
  const { lookups, committed } = await lookupsFor(0, 5);
  expect(committed).toBe(5);
  expect(lookups).toBeGreaterThanOrEqual(4 * 5);
});
