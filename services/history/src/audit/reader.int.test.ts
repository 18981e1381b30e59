/**
 * @alertbus/kafka's reader, which the rebuild, the audit and the replay stand on: a range ends where it should even
 * when transaction markers or aborted records occupy its last offsets, and keys are found where producers put them.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { EventProducer, partitionOfKey, readRanges, toMessage, wholeTopicRanges } from '@alertbus/kafka';
import { TOPICS } from '@alertbus/schemas';
import { testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { opened, repeated, suppressed } from '@alertbus/projection/src/testdata/events';

let kafka: Kafka;

beforeAll(async () => {
  kafka = await testKafka('history-reader');
});

async function readAll(topic: string) {
  const offsets: string[] = [];
  const progress = await readRanges({
    kafka,
    ranges: await wholeTopicRanges(kafka, [topic]),
    onBatch: (b) => void offsets.push(...b.records.map((r) => `${r.partition}@${r.offset}`)),
    stallTimeoutMs: 30_000,
  });
  return { offsets, progress };
}

describe('readRanges', () => {
  it('covers ranges that end in commit markers and aborted records, handing out committed records only', async () => {
    const tx = kafka.producer({ transactionalId: `reader-test-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
    await tx.connect();
    const committed = await tx.transaction();
    await committed.send({ topic: TOPICS.incidents, acks: -1, messages: [toMessage(opened()), toMessage(repeated(2, 5))] });
    await committed.commit();
    const aborted = await tx.transaction();
    await aborted.send({ topic: TOPICS.incidents, acks: -1, messages: [toMessage(suppressed(9))] });
    await aborted.abort();
    await tx.disconnect();

    // The broker writes commit and abort markers after commit()/abort() return: wait until both are in the log.
    const { offsets, progress } = await waitFor(
      async () => {
        const r = await readAll(TOPICS.incidents);
        return r.progress.total === 5n ? r : undefined;
      },
      { what: 'both transaction markers written', timeoutMs: 20_000 },
    );

    // Two records, a commit marker, an aborted record and its abort marker: five offsets, two records.
    expect(offsets).toHaveLength(2);
    expect(progress).toMatchObject({ records: 2, covered: progress.total, partitionsDone: progress.partitions });
    expect(progress.total).toBe(5n);
  });

  it('returns at once for empty topics, and stops a range at the first record stopAt picks', async () => {
    expect((await readAll(TOPICS.silences)).progress).toMatchObject({ records: 0, total: 0n });

    const producer = new EventProducer(kafka);
    await producer.connect();
    await producer.send([suppressed(1), suppressed(2), suppressed(3)]);
    await producer.disconnect();
    const seen: string[] = [];
    await readRanges({
      kafka,
      ranges: await wholeTopicRanges(kafka, [TOPICS.incidents]),
      stopAt: (r) => r.timestamp === String(Date.parse(suppressed(2).recordedAt)),
      onBatch: (b) => void seen.push(...b.records.map((r) => JSON.parse(r.value!.toString()).id)),
    });
    expect(seen).toEqual([opened().id, repeated(2, 5).id, suppressed(1).id]);
  });

  it('partitionOfKey names the partition the producers put the key in', async () => {
    const { offsets } = await readAll(TOPICS.incidents);
    const partition = await partitionOfKey(kafka, TOPICS.incidents, opened().alias);

    expect(new Set(offsets.map((o) => Number(o.split('@')[0])))).toEqual(new Set([partition]));
  });
});
