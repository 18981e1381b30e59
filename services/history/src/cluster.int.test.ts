/**
 * A projection belongs to the Kafka cluster it was built from. Pointed at another cluster (a second broker
 * started here), history refuses to project, says why and what fixes it; `alertbus history rebuild` rebuilds
 * from the new cluster and the running service goes on from there. Records deleted before history applied
 * them halt it instead of being skipped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { createLogger, ensureDatabase } from '@alertbus/common';
import { createKafka, ensureTopics, EventProducer, startLocalBroker, type LocalBroker } from '@alertbus/kafka';
import { deriveId, makeEnvelope, TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { MIGRATIONS_DIR, rebuildProjection } from '@alertbus/projection';
import { startHistory, type HistoryService } from './index';
import { produceStream } from './testdata/produce';
import { buildStream } from './testdata/stream';

const log = createLogger('history-cluster-test', 'silent');
const first = buildStream({ aliases: 6, seed: 'cluster-one' });
const second = buildStream({ aliases: 9, seed: 'cluster-two' });

let kafka1: Kafka;
let kafka2: Kafka;
let broker2: LocalBroker | undefined;
let dir: string;
let service: HistoryService | undefined;

const timelineRows = async () => Number((await service!.pool.query('SELECT count(*) FROM incident_timeline')).rows[0].count);
const offsets = async () => (await service!.pool.query('SELECT topic, "partition", next_offset FROM projection_offsets ORDER BY 1, 2')).rows;
const readyz = async () => {
  const res = await fetch(`${service!.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { reason?: string } };
};
const start = (brokers: string[]) => startHistory({ brokers, databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });

function silence(n: number): AnyEnvelope {
  const at = new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString();
  return makeEnvelope({
    id: deriveId('cluster-test-silence', n),
    type: 'SilenceCreated',
    alias: `silence:cluster-test-${n}`,
    occurredAt: at,
    recordedAt: at,
    source: 'history-api',
    data: {
      silenceId: `cluster-test-${n}`,
      matchers: ['team="db"'],
      startsAt: at,
      endsAt: new Date(Date.parse(at) + 3_600_000).toISOString(),
      createdBy: 'ana',
      comment: `silence ${n}`,
      kind: 'silence',
    },
  });
}

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka1 = await testKafka('history-cluster-1');
  dir = await mkdtemp(join(tmpdir(), 'alertbus-history-broker-'));
  broker2 = await startLocalBroker({ dataDir: dir });
  kafka2 = createKafka({ brokers: broker2.brokers, clientId: 'history-cluster-2', log });
  await ensureTopics(kafka2);
});

afterAll(async () => {
  await service?.close();
  await broker2?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  await dropTestDatabase();
});

test('pointed at another cluster, history refuses to project and says why; a rebuild from that cluster fixes it', async () => {
  await produceStream(kafka1, first.events);
  service = await start(testBrokers());
  await waitFor(async () => (await timelineRows()) === first.events.length, { what: 'the first cluster projected', timeoutMs: 120_000 });
  const before = await offsets();
  await service.close();

  await produceStream(kafka2, second.events);
  service = await start(broker2!.brokers);
  const refused = await waitFor(async () => {
    const r = await readyz();
    return r.status === 503 && r.body.reason?.includes('refuses') ? r.body.reason : undefined;
  }, { what: 'the refusal' });
  expect(refused).toMatch(/this projection was built from Kafka cluster \S+, but 127\.0\.0\.1:\d+ is cluster \S+: history refuses to apply/);
  expect(refused).toContain('Run `alertbus history rebuild`');
  await new Promise((r) => setTimeout(r, 3_000));
  expect(await timelineRows()).toBe(first.events.length);
  expect(await offsets()).toEqual(before);

  const result = await rebuildProjection({ databaseUrl: process.env.DATABASE_URL!, kafka: kafka2, migrationsDir: MIGRATIONS_DIR });
  expect(result).toMatchObject({ swapped: true, matches: null });
  expect(result.notCompared).toMatch(/the live projection was built from another Kafka cluster/);
  await waitFor(async () => (await readyz()).status === 200, { what: 'projecting again after the rebuild', timeoutMs: 60_000 });
  expect(await timelineRows()).toBe(second.events.length);

  // And it goes on with what this cluster gets next.
  const producer = new EventProducer(kafka2);
  await producer.connect();
  await producer.send([silence(1)]);
  await waitFor(async () => (await timelineRows()) === second.events.length + 1, { what: 'a new record projected' });
  await producer.disconnect();
});

test('records deleted from the log before history applied them halt it instead of being skipped', async () => {
  const rows = await timelineRows();
  await service!.close();
  const producer = new EventProducer(kafka2);
  await producer.connect();
  await producer.send([silence(2), silence(3), silence(4)]);
  const admin = kafka2.admin();
  await admin.connect();
  await admin.fetchTopicMetadata({ topics: [TOPICS.silences] });
  const [end] = await admin.fetchTopicOffsets(TOPICS.silences);
  // Deletes silences 2 and 3 (history stopped before it saw them); 4 stays.
  await admin.deleteTopicRecords({ topic: TOPICS.silences, partitions: [{ partition: 0, offset: String(BigInt(end!.high) - 1n) }] });
  await admin.disconnect();
  await producer.disconnect();

  service = await start(broker2!.brokers);
  const halted = await waitFor(async () => {
    const r = await readyz();
    return r.status === 503 && r.body.reason?.includes('halted') ? r.body.reason : undefined;
  }, { what: 'the halt', timeoutMs: 60_000 });
  expect(halted).toMatch(/silences\.v1\[0\] jumped from offset \d+ to \d+: offsets \d+\.\.\d+ are no longer in the log/);
  expect(halted).toContain('alertbus history rebuild');
  expect(await timelineRows()).toBe(rows);
});
