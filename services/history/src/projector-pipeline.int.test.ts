/**
 * The projector's pipeline, against real Kafka and Postgres: while one partition's transaction waits (here on a lock
 * the test holds), the next fetches are made and their batches applied; and a batch whose transaction fails never lets
 * a later batch of its partition, handed over meanwhile, be applied before it.
 */
import { Client } from 'pg';
import { ensureDatabase } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { TOPICS } from '@alertbus/schemas';
import { opened, received, repeated } from '@alertbus/projection/src/testdata/events';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { metricSum } from '../../../test/support/metrics';
import { waitFor } from '../../../test/support/wait';
import { startHistory, type HistoryService } from './index';

/** More records than a batch the projector groups with others (GROUP_BATCH_MAX_RECORDS): each write is a batch of its own. */
const PER_WRITE = 100;

let producer: EventProducer;
let service: HistoryService | undefined;
/** The test's own connection: holds the lock on the inputs' stored offsets. */
let locker: Client;
let written = 0;

const inputs = () => Array.from({ length: PER_WRITE }, () => received(`pipeline-input-${++written}`, written % 60));

async function timelineRows(topic: string): Promise<number> {
  const { rows } = await service!.pool.query<{ n: string }>('SELECT count(*) AS n FROM incident_timeline WHERE topic = $1', [topic]);
  return Number(rows[0]!.n);
}

/** Backends of this database waiting for a lock (the projector's transaction behind the test's). */
async function waitingOnLock(): Promise<number[]> {
  const { rows } = await locker.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
  );
  return rows.map((r) => r.pid);
}

const metric = (name: string) => metricSum(service!.url, name);

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  producer = new EventProducer(await testKafka('history-pipeline'));
  await producer.connect();
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent', fetchLingerMs: 0 });
  locker = new Client({ connectionString: process.env.DATABASE_URL! });
  await locker.connect();
  // The inputs' partition has a stored offset to lock.
  await producer.send(inputs());
  await waitFor(async () => (await timelineRows(TOPICS.alertsReceived)) === written, { what: 'the first inputs projected' });
});

afterAll(async () => {
  await locker?.query('ROLLBACK').catch(() => undefined);
  await locker?.end();
  await service?.close();
  await producer?.disconnect();
  await dropTestDatabase();
});

test("a partition's transaction waiting does not hold back the next fetches: another partition's records are applied meanwhile", async () => {
  await locker.query('BEGIN');
  await locker.query('SELECT * FROM projection_offsets WHERE topic = $1 FOR UPDATE', [TOPICS.alertsReceived]);
  await producer.send(inputs());
  await waitFor(async () => (await waitingOnLock()).length > 0, { what: "the inputs' transaction waiting for the lock" });

  // Written after that batch was handed over, so they come in a later fetch: applied while the lock is still held.
  const incidentEvents = [opened(), ...Array.from({ length: PER_WRITE - 1 }, (_, i) => repeated(i + 2, (i + 1) % 60))];
  await producer.send(incidentEvents);
  await waitFor(async () => (await timelineRows(TOPICS.incidents)) === incidentEvents.length, {
    what: "the incident events applied while the inputs' transaction waits",
  });
  expect(await timelineRows(TOPICS.alertsReceived)).toBe(PER_WRITE);
  expect((await waitingOnLock()).length).toBeGreaterThan(0);

  await locker.query('COMMIT');
  await waitFor(async () => (await timelineRows(TOPICS.alertsReceived)) === written, { what: 'the waiting inputs applied' });
  const { rows } = await service!.pool.query('SELECT count FROM incidents');
  expect(rows).toEqual([{ count: PER_WRITE }]);
});

test('a batch whose transaction fails: the batch of its partition handed over after it is applied only after it, nothing skipped', async () => {
  const retriesBefore = await metric('alertbus_consumer_retries_total');
  await locker.query('BEGIN');
  await locker.query('SELECT * FROM projection_offsets WHERE topic = $1 FOR UPDATE', [TOPICS.alertsReceived]);
  await producer.send(inputs());
  const [blocked] = await waitFor(async () => {
    const pids = await waitingOnLock();
    return pids.length > 0 ? pids : null;
  }, { what: "the inputs' transaction waiting for the lock" });
  // A second batch of the same partition, handed over while the first waits: incident events written after it are
  // applied, so a fetch made after it was written has been handed over (the inputs' partition is fetched again as soon
  // as its waiting batch is handed over).
  await producer.send(inputs());
  const more = Array.from({ length: PER_WRITE }, (_, i) => repeated(PER_WRITE + 1 + i, i % 60));
  const incidentRows = await timelineRows(TOPICS.incidents);
  await producer.send(more);
  await waitFor(async () => (await timelineRows(TOPICS.incidents)) === incidentRows + more.length, { what: 'the later incident events applied' });
  expect(await timelineRows(TOPICS.alertsReceived)).toBe(written - 2 * PER_WRITE);

  // The first batch's connection is lost (an outage of its backend), then the lock released.
  await locker.query('SELECT pg_terminate_backend($1)', [blocked]);
  await locker.query('COMMIT');

  await waitFor(async () => (await timelineRows(TOPICS.alertsReceived)) === written, { what: 'every input applied', timeoutMs: 120_000 });
  expect(await metric('alertbus_consumer_retries_total')).toBeGreaterThan(retriesBefore);
  // Each input once, at its own offset, and the stored offset right after the last one.
  const { rows } = await service!.pool.query<{ n: string; ids: string; offsets: string; last: string; stored: string }>(
    `SELECT count(*) AS n, count(DISTINCT event_id) AS ids, count(DISTINCT "offset") AS offsets, max("offset")::text AS last,
            (SELECT max(next_offset)::text FROM projection_offsets WHERE topic = $1) AS stored
       FROM incident_timeline WHERE topic = $1`,
    [TOPICS.alertsReceived],
  );
  expect(rows[0]).toEqual({ n: String(written), ids: String(written), offsets: String(written), last: rows[0]!.last, stored: String(BigInt(rows[0]!.last) + 1n) });
});
