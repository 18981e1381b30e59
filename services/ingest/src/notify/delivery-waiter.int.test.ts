/**
 * The deliveries reader of POST /notify {sync: true}, on a real broker: it fetches nothing while no request waits
 * (every alert's delivery events pass it by), and a wait still gets the delivery written after it was registered.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { makeEnvelope, newId, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { testKafka } from '../../../../test/support/kafka';
import { DeliveryWaiter } from './delivery-waiter';

let kafka: Kafka;
let producer: EventProducer;
let waiter: DeliveryWaiter;

beforeAll(async () => {
  kafka = await testKafka('ingest-delivery-waiter-test');
  producer = new EventProducer(kafka);
  await producer.connect();
  waiter = new DeliveryWaiter({ kafka, log: createLogger('delivery-waiter-test', 'silent') });
  await waiter.start();
});

afterAll(async () => {
  await waiter?.stop();
  await producer?.disconnect();
});

const now = () => new Date().toISOString();

function posted(notificationId: string): AnyEnvelope {
  return makeEnvelope({
    id: newId(),
    type: 'NotificationPosted',
    alias: `notify:${notificationId}`,
    occurredAt: now(),
    recordedAt: now(),
    source: 'slack-sink',
    correlationId: notificationId,
    data: { commandId: newId(), commandType: 'PostNotification', notificationId, dryRun: false, attempts: 1, channel: 'C1', ts: '1.000100' },
  });
}

/** Lets time pass: the reader's fetches, had it made any, would have brought what was written. */
async function settledFor(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

test('with no request waiting, delivery events are not fetched; a wait still gets the delivery written after it', async () => {
  // Deliveries of other work (every alert's Slack and pager events) while nothing waits.
  await producer.send(Array.from({ length: 20 }, () => posted(newId())));
  await settledFor(3_000); // more than the reader's fetch wait: an active reader would have read them by now
  expect(waiter.reading).toBe(false);
  expect(waiter.recordsRead).toBe(0);

  const notificationId = newId();
  const wait = waiter.wait(notificationId, 60_000);
  await wait.reading;
  expect(waiter.reading).toBe(true);
  await producer.send([posted(notificationId)]);
  await expect(wait.result).resolves.toEqual({ outcome: 'posted', channel: 'C1', ts: '1.000100' });
  // Only what was written after the wait began was read: not the twenty before it.
  expect(waiter.recordsRead).toBe(1);
  expect(waiter.reading).toBe(false);
});

test('a second wait while the first is being read does not move the reader past the first one\'s delivery', async () => {
  const first = newId();
  const second = newId();
  const a = waiter.wait(first, 60_000);
  await a.reading;
  await producer.send([posted(first)]);
  const b = waiter.wait(second, 60_000);
  await b.reading;
  await producer.send([posted(second)]);
  await expect(a.result).resolves.toMatchObject({ outcome: 'posted' });
  await expect(b.result).resolves.toMatchObject({ outcome: 'posted' });
});

test('a cancelled wait leaves the reader paused; the next one resumes it', async () => {
  const gone = waiter.wait(newId(), 60_000);
  await gone.reading;
  gone.cancel();
  expect(waiter.reading).toBe(false);
  const notificationId = newId();
  const wait = waiter.wait(notificationId, 60_000);
  await wait.reading;
  await producer.send([posted(notificationId)]);
  await expect(wait.result).resolves.toMatchObject({ outcome: 'posted' });
});

test('while paused, the reader\'s fetch loop goes round about once a heartbeat, not five times a second', async () => {
  expect(waiter.reading).toBe(false);
  const before = waiter.pausedFetches;
  await settledFor(3_000);
  // KafkaJS's own sleep (the 200 ms fetch wait) would go round ~15 times; held until a heartbeat is due, ~3.
  expect(waiter.pausedFetches - before).toBeLessThanOrEqual(5);
  // And a wait still resumes it at once.
  const notificationId = newId();
  const wait = waiter.wait(notificationId, 60_000);
  await wait.reading;
  await producer.send([posted(notificationId)]);
  await expect(wait.result).resolves.toMatchObject({ outcome: 'posted' });
});
