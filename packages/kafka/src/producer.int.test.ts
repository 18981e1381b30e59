/**
 * The grouped idempotent producer against the real broker of the test run: a write the broker refuses for its
 * size must not break the producer's sequence numbers for the partition, or every later write there fails,
 * or is acknowledged and never shows up. Last, the same producer with the one-pass Produce encoder (produce-encoding.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { HEADERS, TOPICS, makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { installProduceEncoder } from './produce-encoding';
import { EventProducer, ProduceRefused } from './producer';
import type { ConsumedRecord } from './records';
import { partitionOfKey, readRanges, wholeTopicRanges } from './reader';

let kafka: Kafka;

beforeAll(async () => {
  kafka = await testKafka('producer-test');
  // This file's own topics (its own prefix): records over 20 kB are refused by the broker itself.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: TOPICS.alertsReceived, configEntries: [{ name: 'max.message.bytes', value: '20000' }] }],
    });
    // A config change reaches the broker's logs through its metadata, a moment after the answer: wait until the broker
    // itself reports it (a send before that would still be taken under the old limit).
    for (let i = 0; ; i++) {
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: TOPICS.alertsReceived, configNames: ['max.message.bytes'] }],
      });
      if (described.resources[0]?.configEntries[0]?.configValue === '20000') break;
      if (i > 100) throw new Error('the broker never reported max.message.bytes=20000');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await admin.disconnect();
  }
});

function alert(alias: string, description = ''): AnyEnvelope {
  const at = new Date().toISOString();
  return makeEnvelope({
    id: randomUUID(),
    type: 'AlertReceived',
    alias,
    occurredAt: at,
    recordedAt: at,
    source: 'generic',
    causationId: null,
    correlationId: randomUUID(),
    data: { source: 'generic', status: 'firing', title: 'disk full', severity: 'warning', description, labels: {}, annotations: {}, links: [], raw: {} },
  } as never);
}

it('after the broker refuses part of a write for its size, later writes to every partition are written, none lost', async () => {
  // A producer whose call budget is above the topic's limit (as a broker whose max.message.bytes was lowered under
  // 900 KiB), so that one call carries the big record and the others together.
  const producer = new EventProducer(kafka, { maxBatchBytes: 60_000 });
  await producer.connect();
  try {
    // One write across partitions: the broker refuses the big record's partition and takes the others, which the
    // client then does not count as sent; the same sequence numbers again would be taken as duplicates, and dropped.
    const aliases = Array.from({ length: 12 }, (_, i) => `alias-${i}`);
    await producer.send([alert('same', 'x'.repeat(40_000)), ...aliases.map((a) => alert(a, 'first'))]).then(
      () => {
        throw new Error('the broker should have refused a 40 kB record on a topic that takes 20 kB');
      },
      (err: Error) => expect(err.message).toMatch(/too large|MESSAGE_TOO_LARGE|larger than/i),
    );
    const after = [...aliases, 'same'].flatMap((a) => Array.from({ length: 3 }, (_, i) => alert(a, `after ${i}`)));
    // Concurrent sends, grouped by the producer, to every partition the refused write touched.
    await Promise.all(after.map((e) => producer.send([e])));
    const written = new Set((await readTopic(kafka, TOPICS.alertsReceived)).map((r) => r.event?.id));
    expect(after.filter((e) => !written.has(e.id))).toEqual([]);
    expect(producer.producerResets).toBe(1);
  } finally {
    await producer.disconnect();
  }
});

it('writes a send larger than one produce call in parts, each under the call budget, every record once and in order', async () => {
  // 48 records of ~3 kB on one alias (one partition): ~150 kB, where the topic takes 20 kB a batch. In one call the
  // broker would refuse it (as the test above shows); in parts of at most 15 kB every one is written.
  const producer = new EventProducer(kafka, { maxBatchBytes: 15_000 });
  await producer.connect();
  try {
    const alias = `split-${randomUUID()}`;
    const events = Array.from({ length: 48 }, (_, i) => alert(alias, `${i} `.padEnd(3_000, 'z')));
    const small = alert(`after-${randomUUID()}`, 'sent while the parts are queued');
    await Promise.all([producer.send(events), producer.send([small])]);
    expect(producer.produceCalls).toBeGreaterThanOrEqual(10);
    expect(producer.producerResets).toBe(0);
    const records = await readTopic(kafka, TOPICS.alertsReceived);
    const mine = records.filter((r) => r.key === alias).map((r) => r.event?.id);
    expect(mine).toEqual(events.map((e) => e.id));
    expect(records.filter((r) => r.event?.id === small.id)).toHaveLength(1);
  } finally {
    await producer.disconnect();
  }
});

it('a send in parts whose first part the broker refuses is refused whole: none of its later parts is written', async () => {
  const producer = new EventProducer(kafka, { maxBatchBytes: 15_000 });
  await producer.connect();
  try {
    const alias = `refused-${randomUUID()}`;
    // A 40 kB record (over the topic's 20 kB) first, then ten small ones: a part of its own, then a part of ten.
    const events = [alert(alias, 'x'.repeat(40_000)), ...Array.from({ length: 10 }, (_, i) => alert(alias, `small ${i}`.padEnd(2_000, 's')))];
    await expect(producer.send(events)).rejects.toThrow(/too large|MESSAGE_TOO_LARGE|larger than/i);
    const later = alert(alias, 'a later send');
    await producer.send([later]);
    const written = (await readTopic(kafka, TOPICS.alertsReceived)).filter((r) => r.key === alias).map((r) => r.event?.id);
    expect(written).toEqual([later.id]);
  } finally {
    await producer.disconnect();
  }
});

it('a send, whole or in parts, not handed to the broker within its queue timeout is refused and none of it written; one whose first part went is written whole', async () => {
  const producer = new EventProducer(kafka, { maxBatchBytes: 15_000 });
  await producer.connect();
  try {
    // Busy: ~300 kB in parts of at most 15 kB, one produce call after the other (each a round trip to the broker).
    const busyAlias = `busy-${randomUUID()}`;
    const busy = Array.from({ length: 100 }, (_, i) => alert(busyAlias, `${i} `.padEnd(3_000, 'b')));
    const busySent = producer.send(busy);
    // Queued behind it with a 1 ms timeout, which runs out long before twenty round trips are done.
    const lateAlias = `late-${randomUUID()}`;
    const lateSplit = Array.from({ length: 12 }, (_, i) => alert(lateAlias, `${i} `.padEnd(3_000, 'l')));
    const lateOne = alert(lateAlias, 'one small send');
    const refusedSplit = producer.send(lateSplit, { queueTimeoutMs: 1 });
    const refusedOne = producer.send([lateOne], { queueTimeoutMs: 1 });
    await expect(refusedSplit).rejects.toEqual(expect.objectContaining({ reason: 'queue-timeout' }));
    await expect(refusedOne).rejects.toEqual(expect.objectContaining({ reason: 'queue-timeout' }));
    expect(producer.backlog.queued).toBeLessThanOrEqual(busy.length);
    await busySent;
    expect(producer.backlog).toEqual({ queued: 0, inFlight: 0 });
    // Nothing waits now: the first part is handed over at once, and the rest is written however long it waits.
    const nextAlias = `next-${randomUUID()}`;
    const next = Array.from({ length: 12 }, (_, i) => alert(nextAlias, `${i} `.padEnd(3_000, 'n')));
    await producer.send(next, { queueTimeoutMs: 1 });
    const records = await readTopic(kafka, TOPICS.alertsReceived);
    expect(records.filter((r) => r.key === busyAlias).map((r) => r.event?.id)).toEqual(busy.map((e) => e.id));
    expect(records.filter((r) => r.key === lateAlias)).toEqual([]);
    expect(records.filter((r) => r.key === nextAlias).map((r) => r.event?.id)).toEqual(next.map((e) => e.id));
  } finally {
    await producer.disconnect();
  }
});

it('refuses a send larger than one write may hold before anything is written', async () => {
  const producer = new EventProducer(kafka, { maxSendBytes: 10_000 });
  await producer.connect();
  try {
    const big = alert(`big-${randomUUID()}`, 'y'.repeat(12_000));
    await expect(producer.send([big])).rejects.toEqual(expect.objectContaining({ reason: 'too-large' }));
    await expect(producer.send([big])).rejects.toBeInstanceOf(ProduceRefused);
    const written = (await readTopic(kafka, TOPICS.alertsReceived)).map((r) => r.event?.id);
    expect(written).not.toContain(big.id);
  } finally {
    await producer.disconnect();
  }
});

it('with groupSameTurn, the sends made in one turn go out in one produce call; without it the first goes alone', async () => {
  const sendsOfOneTurn = async (producer: EventProducer) => {
    await producer.connect();
    try {
      const events = Array.from({ length: 5 }, (_, i) => alert(`turn-${i}`, `send ${i}`));
      // As a sink's completions send their delivery events: one send each, all in the same turn of the event loop.
      await Promise.all(events.map((e) => producer.send([e])));
      return { calls: producer.produceCalls, events };
    } finally {
      await producer.disconnect();
    }
  };
  const alone = await sendsOfOneTurn(new EventProducer(kafka));
  expect(alone.calls).toBe(2); // the first at once, the other four after its acknowledgement
  const grouped = await sendsOfOneTurn(new EventProducer(kafka, { groupSameTurn: true }));
  expect(grouped.calls).toBe(1);
  // Every event of both is written.
  const read = new Set<string>();
  await readRanges({
    kafka,
    ranges: await wholeTopicRanges(kafka, [TOPICS.alertsReceived]),
    stallTimeoutMs: 30_000,
    onBatch: (b) => {
      for (const r of b.records) read.add(r.headers[HEADERS.eventId] ?? '');
    },
  });
  for (const e of [...alone.events, ...grouped.events]) expect(read.has(e.id)).toBe(true);
});

// Last: from here on this file's clients encode their Produce requests in one pass (installProduceEncoder).
it('with the one-pass encoder, writes grouped sends that the broker takes and that read back as sent, each in its key\'s partition', async () => {
  expect(installProduceEncoder()).toBe(true);
  // Under the 20 kB this file's topic takes per batch.
  const producer = new EventProducer(kafka, { maxBatchBytes: 15_000 });
  await producer.connect();
  const sent: AnyEnvelope[] = [];
  try {
    // Concurrent sends of one to five events each, grouped into few produce calls across every partition; the
    // broker checks each batch's CRC and framing. Multi-byte text, and values of several kilobytes, on the way.
    const sends = Array.from({ length: 60 }, (_, s) =>
      Array.from({ length: 1 + (s % 5) }, (_, i) => alert(`enc-${s % 17}-${i} ü𝄞`, i === 2 ? 'x€'.repeat(1500) : `send ${s}`)),
    );
    await Promise.all(sends.map((events) => producer.send(events)));
    sent.push(...sends.flat());
    expect(producer.produceCalls).toBeLessThan(sends.length);
  } finally {
    await producer.disconnect();
  }
  const read = new Map<string, ConsumedRecord>();
  await readRanges({
    kafka,
    ranges: await wholeTopicRanges(kafka, [TOPICS.alertsReceived]),
    stallTimeoutMs: 30_000,
    onBatch: (b) => {
      for (const r of b.records) read.set(r.headers[HEADERS.eventId] ?? '', r);
    },
  });
  for (const e of sent) {
    const r = read.get(e.id);
    expect(r).toBeDefined();
    expect(r!.key).toBe(e.alias);
    expect(r!.value!.toString('utf8')).toBe(JSON.stringify(e));
    expect(r!.timestamp).toBe(String(Date.parse(e.recordedAt)));
    expect(r!.headers).toEqual({ [HEADERS.eventType]: 'AlertReceived', [HEADERS.eventId]: e.id, [HEADERS.schemaVersion]: '1' });
  }
  for (const alias of new Set(sent.map((e) => e.alias))) {
    const partitions = new Set(sent.filter((e) => e.alias === alias).map((e) => read.get(e.id)!.partition));
    expect([...partitions]).toEqual([await partitionOfKey(kafka, TOPICS.alertsReceived, alias)]);
  }
});
