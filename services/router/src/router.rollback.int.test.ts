/**
 * A rollback against a real broker: state records and inputs written by a newer alertbus carry properties this
 * version does not know. The router restores such a state without them, so the open incident is not forgotten and
 * paged again, and decides such an input as usual instead of dead-lettering it.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, toMessage } from '@alertbus/kafka';
import { TOPICS, topicOf, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka, Producer } from 'kafkajs';
import { readTopic, testBrokers, testKafka, type ReadRecord } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { firing, MINUTE, resolved } from '@alertbus/routing/src/test-support/alerts';
import { startRouter, type Router } from './index';

/** Open, paged; its state rewritten by a newer router. */
const A = 'alertmanager:rollback-a';
/** Resolved with no incident: its kept resolve rewritten by a newer router. */
const B = 'alertmanager:rollback-b';
const S1 = '2025-03-01T09:58:00Z';

let kafka: Kafka;
let producer: EventProducer;
let raw: Producer;
let router: Router | null = null;

const start = () =>
  startRouter({
    brokers: testBrokers(),
    port: 0,
    sessionTimeoutMs: 6_000,
    log: createLogger('router-rollback', process.env.ROUTER_TEST_LOG ?? 'silent'),
  });

const eventsOf = async (topic: string) => (await readTopic(kafka, topic)).map((r) => r.event!).filter(Boolean);
const ofAlias = (list: AnyEnvelope[], alias: string) =>
  list.filter((e) => e.alias === alias).map((e) => `${e.type}:${(e.data as { reason?: string; purpose?: string }).reason ?? (e.data as { purpose?: string }).purpose ?? ''}`);
const latest = (records: ReadRecord[], key: string) => records.filter((r) => r.key === key).at(-1)!;

beforeAll(async () => {
  kafka = await testKafka('router-rollback');
  producer = new EventProducer(kafka);
  await producer.connect();
  raw = kafka.producer();
  await raw.connect();
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
  await raw.disconnect();
});

test('state and inputs with properties a newer version wrote: the incident is kept, the input decided', async () => {
  router = await start();
  await router.ready;
  await producer.send([firing(A, { startsAt: S1 }), resolved(B, { startsAt: S1, endsAt: '2025-03-01T10:04:00Z' })]);
  await waitFor(async () => ((await eventsOf(TOPICS.pagerCommands)).some((e) => e.alias === A) ? true : null), { timeoutMs: 60_000, what: 'A paged' });
  await waitFor(async () => ((await eventsOf(TOPICS.incidents)).some((e) => e.alias === B) ? true : null), { timeoutMs: 60_000, what: 'B decided' });
  await router.close();
  router = null;

  // What a newer router wrote before the rollback: the same states, each with a property this one does not know,
  // at the top and inside a nested object.
  const states = await readTopic(kafka, TOPICS.routerState);
  const stateA = latest(states, A);
  const stateB = latest(states, B);
  const newerA = JSON.parse(stateA.value!) as Record<string, unknown> & { rule: Record<string, unknown> };
  expect(newerA).toMatchObject({ status: 'open', paged: true });
  newerA.snoozedUntil = '2025-03-01T11:00:00.000Z';
  newerA.rule = { ...newerA.rule, weight: 3 };
  const newerB = { ...(JSON.parse(stateB.value!) as Record<string, unknown>), escalation: { level: 2 } };
  expect(newerB).toMatchObject({ kind: 'alert-resolved' });
  await raw.send({
    topic: TOPICS.routerState,
    messages: [
      { key: A, value: JSON.stringify(newerA), partition: stateA.partition, headers: stateA.headers },
      { key: B, value: JSON.stringify(newerB), partition: stateB.partition, headers: stateB.headers },
    ],
  });

  router = await start();
  await router.ready;
  // A's next notification, written by the newer ingest with a property of its own in the data and in the envelope.
  const inputs = await readTopic(kafka, topicOf('AlertReceived'));
  const partitionA = inputs.find((r) => r.key === A)!.partition;
  const again = firing(A, { at: 2 * MINUTE, startsAt: S1, n: 1 });
  const newerInput = { ...again, traceId: 't-1', data: { ...again.data, fingerprintVersion: 2 } };
  const copyB = firing(B, { at: MINUTE, startsAt: S1, n: 1 });
  await raw.send({
    topic: topicOf('AlertReceived'),
    messages: [{ ...toMessage(again, JSON.stringify(newerInput)), partition: partitionA }],
  });
  await producer.send([copyB]);

  const decided = await waitFor(
    async () => {
      const incidents = await eventsOf(TOPICS.incidents);
      return incidents.some((e) => (e.data as { inputId?: string }).inputId === again.id) &&
        incidents.some((e) => (e.data as { inputId?: string }).inputId === copyB.id)
        ? incidents
        : null;
    },
    { timeoutMs: 60_000, what: 'the inputs after the rollback decided' },
  );
  // Before: A's state was skipped on restore, so this notification opened A again and paged a second time; the
  // input itself was dead-lettered for its unknown properties.
  expect(ofAlias(decided, A)).toEqual(['IncidentOpened:first-notification', 'IncidentRepeated:duplicate']);
  expect(ofAlias(decided, B)).toEqual(['EventSuppressed:resolved-without-open-incident', 'EventSuppressed:occurrence-already-resolved']);
  expect(ofAlias(await eventsOf(TOPICS.pagerCommands), A).filter((s) => s.startsWith('CreatePagerAlert'))).toHaveLength(1);
  expect(ofAlias(await eventsOf(TOPICS.slackCommands), A).filter((s) => s === 'PostSlackMessage:root')).toHaveLength(1);
  expect((await eventsOf(TOPICS.deadLetter)).filter((e) => e.alias === A)).toEqual([]);
});
