/**
 * A storm's grouped pager alert closed in the pager, against the real broker: the Close reaches the storm's key, is
 * forwarded to every open incident paging through the alert (on their own partitions) and resolves them; the storm's
 * next incident then creates the storm's alert again instead of only adding a note to the closed one. An incident that
 * joins after a Close was decided and before its resolves are gets the storm's alert created again by the last of them.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { KEYED_PARTITIONS, TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { Partitioners, type Kafka } from 'kafkajs';
import { firing } from '@alertbus/routing/src/test-support/alerts';
import { pagerAction } from '@alertbus/routing/src/test-support/pager';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startRouter, type Router } from './index';

/** The built-in rules gather a channel's incidents past 30 a minute. */
const BEFORE_STORM = 30;
const GATHERED = 4;

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

const eventsOf = async (topic: string) => (await readTopic(kafka, topic)).map((r) => r.event!).filter(Boolean) as AnyEnvelope[];
/** The partition of alerts.received.v1 a key's records are on (KafkaJS's default partitioner: EventProducer's hashes the same). */
const partitionOf = (key: string) =>
  Partitioners.DefaultPartitioner()({
    topic: TOPICS.alertsReceived,
    partitionMetadata: Array.from({ length: KEYED_PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })),
    message: { key, value: null },
  });
const node = (i: number, at: number) => firing(`am:node-${i}`, { at, title: `node-${i} is down`, severity: 'warning', labels: { alertname: 'NodeDown', instance: `node-${i}` } });

beforeAll(async () => {
  kafka = await testKafka('router-storm-close');
  producer = new EventProducer(kafka);
  await producer.connect();
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

test("a Close of the storm's pager alert resolves the incidents paging through it; the storm's next incident pages again", async () => {
  router = await startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000, log: createLogger('router-storm-close', process.env.ROUTER_TEST_LOG ?? 'silent') });
  await router.ready;
  // The storm's threshold counts the incidents decided before: the first 30 are decided before the next are sent.
  await producer.send(Array.from({ length: BEFORE_STORM }, (_, i) => node(i, i * 100)));
  await waitFor(async () => ((await eventsOf(TOPICS.incidents)).filter((e) => e.type === 'IncidentOpened').length >= BEFORE_STORM ? true : null), {
    timeoutMs: 60_000,
    what: 'the incidents before the storm',
  });
  // One at a time, each decided before the next: incidents decided at once on two partitions may each start a storm.
  for (let i = BEFORE_STORM; i < BEFORE_STORM + GATHERED; i++) {
    await producer.send([node(i, i * 100)]);
    await waitFor(async () => ((await eventsOf(TOPICS.incidents)).some((e) => e.type === 'IncidentOpened' && e.alias === `am:node-${i}`) ? true : null), {
      timeoutMs: 60_000,
      what: `node-${i} opened`,
    });
  }
  const created = await waitFor(
    async () => (await eventsOf(TOPICS.pagerCommands)).find((e) => e.type === 'CreatePagerAlert' && e.alias.startsWith('storm:')),
    { timeoutMs: 60_000, what: "the storm's pager alert" },
  );
  const grouped = (await eventsOf(TOPICS.incidents))
    .filter((e) => e.type === 'EventSuppressed' && (e.data as { suppressedBy?: { pageGrouped?: boolean } }).suppressedBy?.pageGrouped === true)
    .map((e) => e.alias);
  expect(grouped).toHaveLength(GATHERED);

  await producer.send([pagerAction('Close', created.alias, { at: 10_000, user: 'jane' })]);
  const resolved = await waitFor(
    async () => {
      const r = (await eventsOf(TOPICS.incidents)).filter((e) => e.type === 'IncidentResolved').map((e) => e.alias);
      return r.length >= GATHERED ? r : null;
    },
    { timeoutMs: 60_000, what: 'the gathered incidents resolved' },
  );
  // Only those paging through the storm's alert: the 30 before the storm keep their own pages, open.
  expect(resolved.sort()).toEqual([...grouped].sort());

  await producer.send([node(BEFORE_STORM + GATHERED, 12_000)]);
  const creates = await waitFor(
    async () => {
      const c = (await eventsOf(TOPICS.pagerCommands)).filter((e) => e.type === 'CreatePagerAlert' && e.alias === created.alias);
      return c.length >= 2 ? c : null;
    },
    { timeoutMs: 60_000, what: "the storm's alert created again" },
  );
  expect(creates).toHaveLength(2);
  expect(creates[1]!.data).toMatchObject({ incidentId: (created.data as { incidentId: string }).incidentId });

  // The race: a Close of the alert node-34 opened again, and a joiner right behind it on the storm key's partition, so
  // the router decides the joiner after the Close and before the Close's resolve (written by the Close's transaction).
  const reopened = `am:node-${BEFORE_STORM + GATHERED}`;
  await waitFor(async () => ((await eventsOf(TOPICS.incidents)).some((e) => e.type === 'EventSuppressed' && e.alias === reopened) ? true : null), {
    timeoutMs: 60_000,
    what: `${reopened} gathered`,
  });
  let z = BEFORE_STORM + GATHERED + 1;
  while (partitionOf(`am:node-${z}`) !== partitionOf(created.alias)) z++;
  const joiner = `am:node-${z}`;
  await producer.send([pagerAction('Close', created.alias, { at: 13_000, user: 'jane' }), node(z, 14_000)]);
  const recreated = await waitFor(
    async () => {
      const c = (await eventsOf(TOPICS.pagerCommands)).filter((e) => e.type === 'CreatePagerAlert' && e.alias === created.alias);
      return c.length >= 3 ? c : null;
    },
    { timeoutMs: 60_000, what: "the storm's alert created again for the joiner" },
  );
  const incidents = await eventsOf(TOPICS.incidents);
  // The Close resolved node-34 only: the joiner was not open yet when it was decided, and stays open.
  expect(incidents.filter((e) => e.type === 'IncidentResolved').map((e) => e.alias)).toContain(reopened);
  expect(incidents.filter((e) => e.type === 'IncidentResolved').map((e) => e.alias)).not.toContain(joiner);
  // Created by node-34's resolve (the forwarded Close), for the joiner; before, the joiner only noted the closed alert.
  const third = recreated[2]!;
  expect(third.data).toMatchObject({ incidentId: (created.data as { incidentId: string }).incidentId, details: expect.objectContaining({ alertbus_alias: joiner }) });
  const cause = incidents.find((e) => e.id === third.causationId) ?? (await eventsOf(TOPICS.alertsReceived)).find((e) => e.id === third.causationId);
  expect(cause).toMatchObject({ type: 'PagerActionForwarded', alias: reopened });
  // Once: nothing else creates it.
  await new Promise((r) => setTimeout(r, 2_000));
  expect((await eventsOf(TOPICS.pagerCommands)).filter((e) => e.type === 'CreatePagerAlert' && e.alias === created.alias)).toHaveLength(3);
});
