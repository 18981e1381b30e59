/**
 * TopicFollower.catchUp on the real broker: the batches of one fetch share one look-up of the topic's end, a
 * look-up that started before a batch's fetch returned is never used for it, and a record written before that
 * is read before catchUp returns; a look-ahead started at the fetch is the look-up the catch-up uses.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { ensureTopics } from '@alertbus/kafka';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { TopicFollower } from './topic-follower';

let kafka: Kafka;
let follower: TopicFollower | undefined;

beforeAll(async () => {
  kafka = await testKafka('topic-follower-test');
});

afterAll(async () => {
  await follower?.stop();
});

test('one end look-up serves the catch-ups since the same fetch; a later one looks again and waits for what was written', async () => {
  const topic = `${TOPIC_PREFIX}follower.${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [{ name: topic, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
  const seen: string[] = [];
  follower = new TopicFollower({
    kafka,
    log: createLogger('topic-follower-test', 'silent'),
    topic,
    name: 'test',
    groupPrefix: `${TOPIC_PREFIX}follower-test`,
    onRecords: (records) => seen.push(...records.map((r) => r.value!.toString())),
  });
  await follower.start();
  const admin = (follower as unknown as { admin: { fetchTopicOffsets: (t: string) => Promise<unknown> } }).admin;
  const lookups = jest.spyOn(admin, 'fetchTopicOffsets');

  const fetchedAt = Date.now();
  expect(await Promise.all([follower.catchUp(5_000, fetchedAt), follower.catchUp(5_000, fetchedAt), follower.catchUp(5_000, fetchedAt)])).toEqual([true, true, true]);
  expect(lookups).toHaveBeenCalledTimes(1);

  // Written after that look-up started: a batch fetched afterwards must not be decided on the old end.
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic, acks: -1, messages: [{ value: 'written-later' }] });
  await p.disconnect();
  await new Promise((r) => setTimeout(r, 5));
  expect(await follower.catchUp(10_000, Date.now())).toBe(true);
  expect(lookups).toHaveBeenCalledTimes(2);
  expect(seen).toEqual(['written-later']);
});

test('a look-ahead started when a batch is fetched is the look-up its catch-up uses', async () => {
  const topic = `${TOPIC_PREFIX}follower.${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [{ name: topic, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
  const seen: string[] = [];
  const ahead = new TopicFollower({
    kafka,
    log: createLogger('topic-follower-test', 'silent'),
    topic,
    name: 'ahead',
    groupPrefix: `${TOPIC_PREFIX}follower-test`,
    onRecords: (records) => seen.push(...records.map((r) => r.value!.toString())),
  });
  await ahead.start();
  try {
    const admin = (ahead as unknown as { admin: { fetchTopicOffsets: (t: string) => Promise<unknown> } }).admin;
    const lookups = jest.spyOn(admin, 'fetchTopicOffsets');
    const p = kafka.producer();
    await p.connect();
    await p.send({ topic, acks: -1, messages: [{ value: 'before-the-fetch' }] });
    await p.disconnect();

    const fetchedAt = Date.now();
    ahead.lookAhead(fetchedAt);
    expect(lookups).toHaveBeenCalledTimes(1);
    // Later, at the batch's turn: no second look-up, and what was written before the fetch has been read.
    expect(await ahead.catchUp(10_000, fetchedAt)).toBe(true);
    expect(lookups).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(['before-the-fetch']);
  } finally {
    await ahead.stop();
  }
});
