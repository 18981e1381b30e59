/**
 * The projector at low rates, against real Kafka and Postgres: records that arrive one at a time are gathered by
 * the fetch and projected a few at a time, not each in a transaction of its own.
 */
import { ensureDatabase } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { metricSum } from '../../../test/support/metrics';
import { waitFor } from '../../../test/support/wait';
import { opened, repeated } from '@alertbus/projection/src/testdata/events';
import { startHistory, type HistoryService } from './index';

let producer: EventProducer;
let service: HistoryService | undefined;

const metric = (name: string) => metricSum(service!.url, name);

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  producer = new EventProducer(await testKafka('history-gathers'));
  await producer.connect();
});

afterAll(async () => {
  await service?.close();
  await producer?.disconnect();
  await dropTestDatabase();
});

describe('the projector at low rates', () => {
  it('gathers records written one at a time into a few batches, each one Postgres transaction', async () => {
    // A gather much longer than the writes below take, even on a slow machine.
    service = await startHistory({
      brokers: testBrokers(),
      databaseUrl: process.env.DATABASE_URL!,
      port: 0,
      logLevel: 'silent',
      fetchLingerMs: 5_000,
    });
    await waitFor(async () => (await fetch(`${service!.url}/readyz`)).status === 200, { what: 'history ready' });

    // One incident's events (one alias: one partition), each written alone, a moment after the one before: longer
    // than history takes to project one, so that without gathering each would be fetched and projected alone.
    const events = [opened(), ...Array.from({ length: 9 }, (_, i) => repeated(i + 2, i + 1))];
    for (const e of events) {
      await producer.send([e]);
      await new Promise((r) => setTimeout(r, 200));
    }

    await waitFor(async () => (await metric('alertbus_history_events_applied_total')) === events.length, {
      what: `${events.length} events applied`,
    });
    // Without the gathering (HISTORY_FETCH_LINGER_MS=0) each record is fetched as soon as it is written: one batch
    // per record. With it, a fetch already waiting when the first record arrives may return it alone, the next the rest.
    expect(await metric('alertbus_history_batches_total')).toBeLessThanOrEqual(3);
    const { rows } = await service.pool.query(`SELECT count FROM incidents`);
    expect(rows).toEqual([{ count: 10 }]);
  });
});
