/**
 * The projector's group commit, against real Kafka and Postgres: small batches of many partitions (what a fetch brings
 * at low rates) share a transaction instead of taking one each, and an event written twice in the log, arriving in
 * such a group, is still applied once, with nothing else of the group skipped.
 */
import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { ensureDatabase } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { MIGRATIONS_DIR, rebuildProjection } from '@alertbus/projection';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { metricSum } from '../../../test/support/metrics';
import { waitFor } from '../../../test/support/wait';
import { startHistory, type HistoryService } from './index';
import { produceStream } from './testdata/produce';
import { buildStream } from './testdata/stream';

const first = buildStream({ aliases: 12, seed: 'group-one' });
const second = buildStream({ aliases: 6, seed: 'group-two' });

let kafka: Kafka;
let service: HistoryService | undefined;

/** The projection's transactions: each begins with the read of its partitions' offsets (one or several). */
let transactions = 0;
const query = Client.prototype.query;

const timelineRows = async () => Number((await service!.pool.query('SELECT count(*) FROM incident_timeline')).rows[0].count);

const metric = (name: string, labels = '') => metricSum(service!.url, name, labels);

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-group');
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : undefined;
    if (text?.startsWith('BEGIN') && text.includes('projection_offsets')) transactions += 1;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
});

afterAll(async () => {
  Client.prototype.query = query;
  await service?.close();
  await dropTestDatabase();
});

test('small batches of many partitions are applied in fewer transactions than partitions', async () => {
  // Written before history starts: its first fetches bring a few records of each of many partitions.
  await produceStream(kafka, first.events);
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
  await waitFor(async () => (await timelineRows()) === first.events.length, { what: 'the stream projected', timeoutMs: 120_000 });

  const { rows } = await service.pool.query<{ n: string }>('SELECT count(*) AS n FROM projection_offsets');
  const partitions = Number(rows[0]!.n);
  expect(partitions).toBeGreaterThanOrEqual(20);
  // One transaction per partition's batch would be at least `partitions`.
  expect(transactions).toBeLessThanOrEqual(partitions / 2);
  expect(await metric('alertbus_history_events_applied_total')).toBe(first.events.length);
});

test('an event written again arrives among other partitions\' batches: applied once, nothing else skipped', async () => {
  // An incident's opening and a delivery of the first stream written a second time (a producer's retry), with a new stream.
  const again = [first.events.find((e) => e.type === 'IncidentOpened')!, first.events.find((e) => e.type === 'SlackMessagePosted')!];
  expect(again.every((e) => e !== undefined)).toBe(true);
  const producer = new EventProducer(kafka);
  await producer.connect();
  try {
    await producer.send(again);
  } finally {
    await producer.disconnect();
  }
  await produceStream(kafka, second.events);

  const all = first.events.length + second.events.length;
  await waitFor(async () => (await timelineRows()) === all && (await metric('alertbus_history_events_skipped_total', 'duplicate-id')) === again.length, {
    what: 'the second stream projected and the events written again skipped',
    timeoutMs: 120_000,
  });
  const { rows } = await service!.pool.query<{ n: string; ids: string }>('SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM incident_timeline');
  expect(rows[0]).toEqual({ n: String(all), ids: String(all) });
  expect(await metric('alertbus_history_events_applied_total')).toBe(all);

  // The same rows as the log replayed batch by batch: nothing skipped, nothing applied twice.
  await service!.close();
  service = undefined;
  const result = await rebuildProjection({ databaseUrl: process.env.DATABASE_URL!, kafka, migrationsDir: MIGRATIONS_DIR, swap: false });
  expect(result.matches).toBe(true);
});
