/**
 * Bounded router memory against a real broker: a resolved incident is evicted once the newest input of its
 * partition is ROUTER_STATE_RETENTION (plus the grace) past its resolution, by event time; a tombstone on the
 * state topic keeps a restart from bringing it back; the alias firing again opens a new incident.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, partitionOfKey } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { EVICTION_GRACE_MS } from '@alertbus/routing';
import { firing, HOUR, MINUTE, resolved } from '@alertbus/routing/src/test-support/alerts';
import { startRouter, type Router } from './index';

const RETENTION = HOUR;

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

const start = () =>
  startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000, stateRetentionMs: RETENTION, log: createLogger('router-retention', 'silent') });

const metric = async (name: string) =>
  (await (await fetch(`${router!.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(name))?.split(' ').at(-1);

async function decisions(alias: string): Promise<AnyEnvelope[]> {
  return (await readTopic(kafka, TOPICS.incidents)).map((r) => r.event!).filter((e) => e?.alias === alias);
}

beforeAll(async () => {
  kafka = await testKafka('router-retention');
  producer = new EventProducer(kafka);
  await producer.connect();
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

test('a resolved incident is forgotten after the retention, for good, and its alias starts afresh', async () => {
  const A = 'alertmanager:retention-a';
  const partition = await partitionOfKey(kafka, TOPICS.alertsReceived, A);
  // Another alias on the same partition: its inputs move the partition's event time on.
  let B = '';
  for (let i = 0; !B; i++) if ((await partitionOfKey(kafka, TOPICS.alertsReceived, `alertmanager:retention-b${i}`)) === partition) B = `alertmanager:retention-b${i}`;

  router = await start();
  await router.ready;
  await producer.send([firing(A), resolved(A, { at: MINUTE })]);
  await waitFor(async () => (await decisions(A)).some((e) => e.type === 'IncidentResolved'), { what: 'A resolved' });
  const first = (await decisions(A)).find((e) => e.type === 'IncidentOpened')!;
  expect(await metric('alertbus_router_state_entries{kind="incident"')).toBe('1');

  // Just inside retention + grace: remembered.
  await producer.send([firing(B, { at: MINUTE + RETENTION + EVICTION_GRACE_MS - MINUTE })]);
  await waitFor(async () => (await decisions(B)).length > 0, { what: 'B decided' });
  expect(await metric('alertbus_router_state_evictions_total')).toBe('0');

  // Past it: A is evicted, with a tombstone on the state topic.
  await producer.send([firing(B, { at: MINUTE + RETENTION + EVICTION_GRACE_MS + MINUTE, n: 1 })]);
  await waitFor(async () => (await metric('alertbus_router_state_evictions_total')) === '1', { what: 'A evicted' });
  expect(await metric('alertbus_router_state_entries{kind="incident"')).toBe('1');
  const stateRecords = (await readTopic(kafka, TOPICS.routerState)).filter((r) => r.key === A);
  expect(stateRecords.at(-1)).toMatchObject({ partition, value: null });

  // A restart restores without A; A firing again opens a new first incident, with a new id.
  await router.close();
  router = await start();
  await router.ready;
  expect(await metric('alertbus_router_state_entries{kind="incident"')).toBe('1');
  const again = firing(A, { at: 3 * RETENTION + EVICTION_GRACE_MS, n: 2 });
  await producer.send([again]);
  const opened = await waitFor(async () => (await decisions(A)).find((e) => e.type === 'IncidentOpened' && e.id !== first.id), { what: 'A opened again' });
  expect(opened.data).toMatchObject({ occurrence: 1, reason: 'first-notification', inputId: again.id });
  expect((opened.data as { incidentId: string }).incidentId).not.toBe((first.data as { incidentId: string }).incidentId);
});
