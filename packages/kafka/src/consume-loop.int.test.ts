/**
 * The one consume loop against the real broker of the test run (and, for the broker restart, a broker of
 * its own): failures pause a partition and the same records come again, nothing skipped; other partitions
 * go on meanwhile; the group membership outlives a failure longer than the session timeout; a position the
 * consumer moved forward by itself over deleted records halts the partition instead of skipping.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createLogger, createRegistry } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { createKafka } from './client';
import { ConsumeLoop, consumeLoopMetrics, type ConsumeLoopOptions } from './consume-loop';
import { startLocalBroker, type LocalBroker } from './local/broker';

const log = createLogger('consume-loop-test', process.env.LOOP_TEST_LOG ?? 'silent');
const FAST = { minBackoffMs: 50, maxBackoffMs: 400 };

let kafka: Kafka;
const loops: ConsumeLoop[] = [];

beforeAll(async () => {
  kafka = await testKafka('consume-loop-test');
});

afterAll(async () => {
  await Promise.all(loops.map((l) => l.stop()));
});

/** A topic of its own, created the way the services create theirs (which waits until every partition is served). */
async function topic(partitions: number, k: Kafka = kafka): Promise<string> {
  const name = `${TOPIC_PREFIX}loop.${randomUUID().slice(0, 8)}`;
  await ensureTopics(k, [{ name, partitions, cleanupPolicy: 'delete', retentionMs: -1 }]);
  return name;
}

async function produce(t: string, messages: Array<{ partition: number; value: string }>, k: Kafka = kafka): Promise<void> {
  const p = k.producer();
  await p.connect();
  try {
    await p.send({ topic: t, acks: -1, messages });
  } finally {
    await p.disconnect();
  }
}

function loop(opts: Partial<ConsumeLoopOptions> & Pick<ConsumeLoopOptions, 'topics' | 'handleBatch'>): ConsumeLoop {
  const l = new ConsumeLoop({
    kafka,
    groupId: `${TOPIC_PREFIX}loop-${randomUUID().slice(0, 8)}`,
    log,
    commit: 'kafka',
    retry: FAST,
    consumer: { sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 },
    ...opts,
  });
  loops.push(l);
  return l;
}

test('a failing batch pauses its partition and comes again from where it stopped; the other partitions go on', async () => {
  const t = await topic(2);
  await produce(t, [0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `p0-${i}` })));
  await produce(t, [0, 1, 2].map((i) => ({ partition: 1, value: `p1-${i}` })));
  const handled: string[] = [];
  let failures = 0;
  const registry = createRegistry('loop-test');
  const l = loop({
    topics: [t],
    metrics: consumeLoopMetrics(registry),
    handleBatch: async (batch) => {
      for (const r of batch.records) {
        const v = r.value!.toString();
        // p0-2 fails four times, as a database that is down would; p0-0 and p0-1 are resolved before it.
        if (v === 'p0-2' && failures < 4) {
          failures += 1;
          throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
        }
        handled.push(v);
        batch.resolve(r.offset);
      }
    },
  });
  await l.start();
  await waitFor(() => handled.length === 8, { what: 'every record handled', timeoutMs: 30_000 });
  expect(failures).toBe(4);
  // Each record once, in its partition's order, none skipped; p1 was not held back by p0's failures.
  expect(handled.filter((v) => v.startsWith('p0'))).toEqual(['p0-0', 'p0-1', 'p0-2', 'p0-3', 'p0-4']);
  expect(handled.filter((v) => v.startsWith('p1'))).toEqual(['p1-0', 'p1-1', 'p1-2']);
  expect(handled.indexOf('p1-2')).toBeLessThan(handled.indexOf('p0-2'));
  expect(await registry.getSingleMetricAsString('alertbus_consumer_retries_total')).toMatch(/ 4$/m);
  expect(l.problem()).toBeNull();
  expect(l.retryingPartitions()).toEqual([]);
});

test('a deferred batch keeps its partition paused until it settles, while later records of other partitions are handled; a rejected one comes again', async () => {
  const t = await topic(2);
  await produce(t, [{ partition: 0, value: 'p0-0' }]);
  const handed: string[] = [];
  const settles: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  const l = loop({
    topics: [t],
    handleBatch: async (batch) => {
      handed.push(...batch.records.map((r) => r.value!.toString()));
      if (batch.partition === 1) return;
      return { deferred: new Promise<void>((resolve, reject) => settles.push({ resolve, reject })) };
    },
  });
  await l.start();
  await waitFor(() => settles.length === 1, { what: 'partition 0 deferred', timeoutMs: 30_000 });
  // Written while partition 0's batch is pending: partition 1's record is fetched and handled (one batch at a time,
  // a handler that waited would block every fetch), partition 0's is not handed over before its batch settles.
  await produce(t, [{ partition: 1, value: 'p1-0' }, { partition: 0, value: 'p0-1' }]);
  await waitFor(() => handed.includes('p1-0'), { what: 'partition 1 handled meanwhile', timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 500));
  expect(handed).toEqual(['p0-0', 'p1-0']);
  // A rejection retries the batch from its start, after the back-off (with the record written since).
  settles[0]!.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' }));
  await waitFor(() => settles.length === 2, { what: 'partition 0 deferred again', timeoutMs: 30_000 });
  expect(handed).toEqual(['p0-0', 'p1-0', 'p0-0', 'p0-1']);
  // Resolved: the partition moves past the batch and is fetched again.
  settles[1]!.resolve();
  await produce(t, [{ partition: 0, value: 'p0-2' }]);
  await waitFor(() => handed.includes('p0-2'), { what: 'partition 0 goes on after it settled', timeoutMs: 30_000 });
  settles.at(-1)!.resolve();
  expect(handed.filter((v) => v.startsWith('p0'))).toEqual(['p0-0', 'p0-0', 'p0-1', 'p0-2']);
});

test('with partitionsConcurrently, a slow partition does not hold back the others of its fetch; each stays in order', async () => {
  const t = await topic(2);
  await produce(t, [0, 1, 2].map((i) => ({ partition: 0, value: `p0-${i}` })));
  await produce(t, [0, 1, 2].map((i) => ({ partition: 1, value: `p1-${i}` })));
  const handled: string[] = [];
  let releaseP0!: () => void;
  const p0Released = new Promise<void>((r) => (releaseP0 = r));
  let p0Began!: () => void;
  const p0Started = new Promise<void>((r) => (p0Began = r));
  const l = loop({
    topics: [t],
    consumer: { sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100, partitionsConcurrently: 2 },
    handleBatch: async (batch) => {
      // Both batches are in hand at once: partition 0's waits (a slow call) until partition 1's is done, which
      // starts only once partition 0's has. One batch at a time, this would never end, whichever came first.
      if (batch.partition === 0) {
        p0Began();
        await p0Released;
      } else {
        await p0Started;
      }
      for (const r of batch.records) {
        handled.push(r.value!.toString());
        batch.resolve(r.offset);
      }
      if (batch.partition === 1) releaseP0();
    },
  });
  await l.start();
  await waitFor(() => handled.length === 6, { what: 'every record handled', timeoutMs: 60_000 });
  expect(handled.slice(0, 3)).toEqual(['p1-0', 'p1-1', 'p1-2']);
  expect(handled.slice(3)).toEqual(['p0-0', 'p0-1', 'p0-2']);
});

test.each([
  ['maxBytes', { maxBytes: 3_000 }],
  ['maxBytesPerPartition', { maxBytesPerPartition: 3_000 }],
] as const)('a fetch takes no more than %s: the records come in batches under the limit, all of them, in order', async (_name, limit) => {
  const t = await topic(1);
  const p = kafka.producer();
  await p.connect();
  try {
    // One send per record: each is a record batch of its own, the unit the broker's limits count in.
    for (let i = 0; i < 12; i++) await p.send({ topic: t, acks: -1, messages: [{ partition: 0, value: `${i}`.padEnd(1_000, '.') }] });
  } finally {
    await p.disconnect();
  }
  const batches: string[][] = [];
  const l = loop({
    topics: [t],
    consumer: { sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100, ...limit },
    handleBatch: async (batch) => {
      batches.push(batch.records.map((r) => r.value!.toString()));
    },
  });
  await l.start();
  await waitFor(() => batches.flat().length >= 12, { what: 'every record handled', timeoutMs: 60_000 });
  // Without the limit, one fetch brings the 12,000 bytes at once.
  for (const b of batches) expect(b.reduce((n, v) => n + v.length, 0)).toBeLessThanOrEqual(3_000);
  expect(batches.flat().map((v) => Number.parseInt(v, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});

test('a handler may ask to come back later without an error; what it resolved is not handed over again', async () => {
  const t = await topic(1);
  await produce(t, [0, 1, 2].map((i) => ({ partition: 0, value: `r${i}` })));
  const calls: string[][] = [];
  let waited = false;
  const l = loop({
    topics: [t],
    handleBatch: async (batch) => {
      calls.push(batch.records.map((r) => r.value!.toString()));
      for (const r of batch.records) {
        if (r.value!.toString() === 'r1' && !waited) {
          waited = true;
          return { retryInMs: 300, reason: 'waiting out a Retry-After' };
        }
        batch.resolve(r.offset);
      }
    },
  });
  await l.start();
  await waitFor(() => calls.length >= 2 && calls.at(-1)!.at(-1) === 'r2', { what: 'the rest handed over' });
  expect(calls[0]).toEqual(['r0', 'r1', 'r2']);
  expect(calls.slice(1).flat()).toEqual(['r1', 'r2']);
});

test('with commitDelayMs, the positions of handled batches are committed later, every partition in one request, and when the loop stops', async () => {
  const t = await topic(2);
  await produce(t, [{ partition: 0, value: 'p0-0' }, { partition: 1, value: 'p1-0' }]);
  const groupId = `${TOPIC_PREFIX}loop-${randomUUID().slice(0, 8)}`;
  const handled: string[] = [];
  const l = loop({
    groupId,
    topics: [t],
    // Far longer than the test: only stop() commits.
    commitDelayMs: 600_000,
    handleBatch: async (batch) => {
      handled.push(...batch.records.map((r) => r.value!.toString()));
    },
  });
  const committed = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [t] });
      return Object.fromEntries(offsets!.partitions.map((p) => [p.partition, p.offset]));
    } finally {
      await admin.disconnect();
    }
  };
  await l.start();
  await waitFor(() => handled.length === 2, { what: 'both records handled', timeoutMs: 30_000 });
  // Another fetch went by since: a commit after every batch would have been made before it.
  await produce(t, [{ partition: 0, value: 'p0-1' }]);
  await waitFor(() => handled.includes('p0-1'), { what: 'the next record handled', timeoutMs: 30_000 });
  expect(await committed()).toEqual({ 0: '-1', 1: '-1' });
  await l.stop();
  expect(await committed()).toEqual({ 0: '2', 1: '1' });
});

test('the group membership outlives a failure longer than the session timeout', async () => {
  const t = await topic(1);
  await produce(t, [{ partition: 0, value: 'only' }]);
  let joins = 0;
  let failingUntil = 0;
  const done: string[] = [];
  const l = loop({
    topics: [t],
    consumer: { sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 },
    onAssigned: () => {
      joins += 1;
      if (failingUntil === 0) failingUntil = Date.now() + 9_000;
    },
    handleBatch: async (batch) => {
      if (Date.now() < failingUntil) throw Object.assign(new Error('Connection terminated unexpectedly'), {});
      done.push(...batch.records.map((r) => r.value!.toString()));
    },
  });
  await l.start();
  await waitFor(() => done.length === 1, { what: 'the record handled after the outage', timeoutMs: 40_000 });
  expect(done).toEqual(['only']);
  expect(joins).toBe(1);
});

test('records deleted before they were consumed halt the partition instead of being skipped', async () => {
  const t = await topic(1);
  await produce(t, Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `m${i}` })));
  const groupId = `${TOPIC_PREFIX}loop-${randomUUID().slice(0, 8)}`;
  const handled: string[] = [];
  const handle: ConsumeLoopOptions['handleBatch'] = async (batch) => {
    for (const r of batch.records) {
      if (Number(r.offset) >= 5) return { retryInMs: 60_000, reason: 'stop here for the test' };
      handled.push(r.value!.toString());
      batch.resolve(r.offset);
    }
  };
  const first = loop({ topics: [t], groupId, handleBatch: handle });
  await first.start();
  await waitFor(() => handled.length === 5, { what: 'the first five' });
  await first.stop();

  // Retention (or an operator) removes offsets 0..7, three of them never consumed.
  const admin = kafka.admin();
  await admin.connect();
  await admin.fetchTopicMetadata({ topics: [t] });
  await admin.deleteTopicRecords({ topic: t, partitions: [{ partition: 0, offset: '8' }] });
  await admin.disconnect();

  let halted = '';
  const second = loop({ topics: [t], groupId, handleBatch: handle, onHalt: (reason) => (halted = reason) });
  await second.start();
  await waitFor(() => halted !== '', { what: 'the partition halted' });
  expect(halted).toMatch(/jumped from offset 5 to 8: offsets 5\.\.7 are no longer in the log/);
  expect(second.problem()).toContain('halted rather than skipping them');
  expect(handled).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
});

describe('with a broker of its own, stopped and started again', () => {
  let broker: LocalBroker | undefined;
  let dir: string;

  afterAll(async () => {
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The block's broker, started by the first test that needs it (so a test run alone with -t has one too). */
  async function running(): Promise<LocalBroker> {
    if (!broker) {
      dir = await mkdtemp(join(tmpdir(), 'alertbus-loop-broker-'));
      broker = await startLocalBroker({ dataDir: dir });
    }
    return broker;
  }

  test('consumption pauses while the broker is away and resumes after it, without skipping or restarting the process', async () => {
    broker = await running();
    const port = Number(broker.brokers[0]!.split(':')[1]);
    const own = createKafka({ brokers: broker.brokers, clientId: 'loop-restart', log });
    const t = await topic(1, own);
    await produce(t, [{ partition: 0, value: 'before' }], own);
    const handled: string[] = [];
    const l = loop({
      kafka: own,
      topics: [t],
      handleBatch: async (batch) => {
        handled.push(...batch.records.map((r) => r.value!.toString()));
      },
    });
    await l.start();
    await waitFor(() => handled.includes('before'), { what: 'the first record' });

    await broker.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    broker = await startLocalBroker({ dataDir: dir, port });
    await produce(t, [{ partition: 0, value: 'after' }], own);
    await waitFor(() => handled.includes('after'), { what: 'the record written after the restart', timeoutMs: 90_000 });
    expect(handled).toEqual(['before', 'after']);
    await waitFor(() => l.problem() === null, { what: 'the loop healthy again', timeoutMs: 60_000 });
    await l.stop();
  });

  test('a loop started while the broker is away waits for it instead of failing the start', async () => {
    const port = Number(broker!.brokers[0]!.split(':')[1]);
    const own = createKafka({ brokers: broker!.brokers, clientId: 'loop-start', log });
    const t = await topic(1, own);
    await broker!.stop();
    const handled: string[] = [];
    const l = loop({
      kafka: own,
      topics: [t],
      handleBatch: async (batch) => {
        handled.push(...batch.records.map((r) => r.value!.toString()));
      },
    });
    let started: 'yes' | Error | undefined;
    const starting = l.start().then(
      () => (started = 'yes'),
      (err: Error) => (started = err),
    );
    // Longer than KafkaJS's own connection retries (about 15 s), after which it gives up.
    await new Promise((r) => setTimeout(r, 25_000));
    expect(started).toBeUndefined();
    expect(l.problem()).not.toBeNull();
    broker = await startLocalBroker({ dataDir: dir, port });
    await starting;
    expect(started).toBe('yes');
    await produce(t, [{ partition: 0, value: 'once the broker is back' }], own);
    await waitFor(() => handled.includes('once the broker is back'), { what: 'the record', timeoutMs: 60_000 });
    await l.stop();
  });

  test('a deferred batch that fails while KafkaJS restarts its crashed consumer comes again once the broker is back, and nothing escapes the loop', async () => {
    broker = await running();
    const port = Number(broker.brokers[0]!.split(':')[1]);
    const own = createKafka({ brokers: broker.brokers, clientId: 'loop-crash-window', log });
    const t = await topic(1, own);
    await produce(t, [{ partition: 0, value: 'in flight when the broker dies' }], own);
    // What a service process would die of: an error thrown from a timer or a promise callback of the loop.
    const escaped: unknown[] = [];
    const onEscape = (err: unknown) => escaped.push(err);
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    try {
      const handled: string[] = [];
      let fail: ((err: Error) => void) | undefined;
      const l = loop({
        kafka: own,
        topics: [t],
        handleBatch: async (batch) => {
          handled.push(...batch.records.map((r) => r.value!.toString()));
          // The first batch waits for its transaction, as the router's do; the ones after it go through.
          if (fail) return;
          return { deferred: new Promise<void>((_, reject) => (fail = reject)) };
        },
      });
      await l.start();
      await waitFor(() => fail, { what: 'the first batch' });

      process.kill(broker!.pid, 'SIGKILL');
      await broker!.stop();
      // KafkaJS gives up on the fetch, stops its consumer and starts it again a moment later (200 ms at first): the
      // transaction of the batch fails in between, while the consumer has no group to pause the partition in.
      await waitFor(() => l.lastCrash, { what: 'the consumer to crash', intervalMs: 5, timeoutMs: 90_000 });
      fail!(Object.assign(new Error('connect ECONNREFUSED (the transaction of the batch)'), { code: 'ECONNREFUSED' }));
      await new Promise((r) => setTimeout(r, 2_000));
      broker = await startLocalBroker({ dataDir: dir, port });
      await waitFor(() => handled.length >= 2, { what: 'the batch handed over again', timeoutMs: 90_000 });
      await waitFor(() => l.problem() === null, { what: 'the loop healthy again', timeoutMs: 60_000 });
      await l.stop();
      // Handed over again after the restart (more than once if the group rejoined again before the commit).
      expect(handled.length).toBeGreaterThanOrEqual(2);
      expect(new Set(handled)).toEqual(new Set(['in flight when the broker dies']));
      expect(escaped).toEqual([]);
    } finally {
      process.off('uncaughtException', onEscape);
      process.off('unhandledRejection', onEscape);
    }
  });
});
