/**
 * TopicFollower.catchUp on the real broker: the batches of one fetch share one look-up of the topic's end, a
 * look-up that started before a batch's fetch returned is never used for it, and a record written before that
 * is read before catchUp returns; a look-ahead started at the fetch is the look-up the catch-up uses; with nothing new,
 * a catch-up costs one request to the broker; a follower told to gather asks the broker to hold its fetches until a lot is
 * readable (or the linger is over), and asks for each record again as soon as it is told to stop.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { ensureTopics } from '@alertbus/kafka';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { FOLLOWER_GATHER_BYTES, TopicFollower } from './topic-follower';

let kafka: Kafka;
let follower: TopicFollower | undefined;

beforeAll(async () => {
  kafka = await testKafka('topic-follower-test');
});

afterAll(async () => {
  await follower?.stop();
});

/** A started follower of a fresh one-partition topic, what it read, and a spy on its end look-ups. */
async function follow(name: string, gather?: () => boolean): Promise<{ follower: TopicFollower; topic: string; seen: string[]; lookups: jest.SpyInstance }> {
  const topic = `${TOPIC_PREFIX}follower.${randomUUID().slice(0, 8)}`;
  await ensureTopics(kafka, [{ name: topic, partitions: 1, cleanupPolicy: 'delete', retentionMs: -1 }]);
  const seen: string[] = [];
  const started = new TopicFollower({
    kafka,
    log: createLogger('topic-follower-test', 'silent'),
    topic,
    name,
    groupPrefix: `${TOPIC_PREFIX}follower-test`,
    onRecords: (records) => seen.push(...records.map((r) => r.value!.toString())),
    ...(gather ? { gather } : {}),
  });
  await started.start();
  const ends = (started as unknown as { ends: { latest: (t: string) => Promise<unknown> } }).ends;
  return { follower: started, topic, seen, lookups: jest.spyOn(ends, 'latest') };
}

test('one end look-up serves the catch-ups since the same fetch; a later one looks again and waits for what was written', async () => {
  const made = await follow('test');
  follower = made.follower;
  const { topic, seen, lookups } = made;

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
  const { follower: ahead, topic, seen, lookups } = await follow('ahead');
  try {
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

test('with nothing new to read, a catch-up is one request to the broker (the latest offsets), not three', async () => {
  const { follower: quiet, topic } = await follow('quiet');
  try {
    const p = kafka.producer();
    await p.connect();
    await p.send({ topic, acks: -1, messages: [{ value: 'read-before' }] });
    await p.disconnect();
    expect(await quiet.catchUp(10_000, Date.now())).toBe(true);

    const admin = (quiet as unknown as { ends: { admin: import('kafkajs').Admin } }).ends.admin;
    const requests: string[] = [];
    const off = admin.on(admin.events.REQUEST, (e) => requests.push(e.payload.apiName));
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 2));
      expect(await quiet.catchUp(10_000, Date.now())).toBe(true);
    }
    off();
    expect(requests).toEqual(['ListOffsets', 'ListOffsets', 'ListOffsets']);
  } finally {
    await quiet.stop();
  }
});

test('gathering, the follower asks the broker to hold its fetches for a megabyte; told to stop, it asks for every record again', async () => {
  // The minBytes of every fetch of the follower's topic, as KafkaJS sends it to the broker.
  type Fetch = (args: { minBytes: number; topics: Array<{ topic: string }> }) => unknown;
  const proto = (require('kafkajs/src/broker') as { prototype: { fetch: Fetch } }).prototype;
  const original = proto.fetch;
  const asked: Array<{ topic: string; minBytes: number }> = [];
  const fetch = jest.spyOn(proto, 'fetch').mockImplementation(function (this: unknown, args) {
    for (const t of args.topics) asked.push({ topic: t.topic, minBytes: args.minBytes });
    return original.call(this, args);
  });
  let gathering = true;
  const { follower: g, topic, seen } = await follow('gather', () => gathering);
  try {
    const mine = () => asked.filter((a) => a.topic === topic);
    await waitUntil(() => mine().some((a) => a.minBytes === FOLLOWER_GATHER_BYTES));
    expect(mine().every((a) => a.minBytes === FOLLOWER_GATHER_BYTES)).toBe(true);

    gathering = false;
    const p = kafka.producer();
    await p.connect();
    await p.send({ topic, acks: -1, messages: [{ value: 'after-gathering' }] });
    await p.disconnect();
    expect(await g.catchUp(30_000, Date.now())).toBe(true);
    expect(seen).toEqual(['after-gathering']);
    await waitUntil(() => mine().some((a) => a.minBytes === 1));
    const firstNormal = mine().findIndex((a) => a.minBytes === 1);
    expect(mine().slice(firstNormal).every((a) => a.minBytes === 1)).toBe(true);
  } finally {
    fetch.mockRestore();
    await g.stop();
  }
});

async function waitUntil(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 20));
}
