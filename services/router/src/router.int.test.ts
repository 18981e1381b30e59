/**
 * The router against a real broker: decisions, commands and dead letters come out of one transaction per
 * batch, read back with read_committed readers, and a restarted router carries on from restored state.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka, type ReadRecord } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { withoutSharedSeen } from '../../../test/support/shared-seen';
import { firing, HOUR, MINUTE, resolved } from '@alertbus/routing/src/test-support/alerts';
import { startRouter, type Router } from './index';
import { expectedOutputs } from './test-support/expected';

const A = 'alertmanager:int-aaaa';
const B = 'grafana:int-bbbb';
const C = 'alertmanager:int-cccc';

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

const start = () =>
  startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000, log: createLogger('router-int', process.env.ROUTER_TEST_LOG ?? 'silent') });


const events = (records: ReadRecord[]) => records.map((r) => r.event!).filter(Boolean);
const byAlias = (list: AnyEnvelope[], alias: string) => list.filter((e) => e.alias === alias);
const summary = (list: AnyEnvelope[]) =>
  list.map((e) => {
    const d = e.data as { reason?: string; purpose?: string };
    return [e.type, d.reason ?? d.purpose ?? ''].join(':');
  });

async function readAll(): Promise<{ incidents: AnyEnvelope[]; slack: AnyEnvelope[]; pager: AnyEnvelope[]; dead: ReadRecord[] }> {
  const [incidents, slack, pager, dead] = await Promise.all([
    readTopic(kafka, TOPICS.incidents),
    readTopic(kafka, TOPICS.slackCommands),
    readTopic(kafka, TOPICS.pagerCommands),
    readTopic(kafka, TOPICS.deadLetter),
  ]);
  return { incidents: events(incidents), slack: events(slack), pager: events(pager), dead };
}

beforeAll(async () => {
  kafka = await testKafka('router-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-int-producer' }));
  await producer.connect();
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

test('decides lifecycles exactly once, dead-letters garbage, and resumes from restored state', async () => {
  const phase1 = [
    firing(A),
    firing(B, { source: 'grafana', severity: 'warning' }),
    firing(A, { at: MINUTE }),
    firing(B, { source: 'grafana', severity: 'warning', at: 5 * HOUR }),
    resolved(A, { at: 2 * MINUTE }),
    resolved(B, { source: 'grafana', severity: 'warning', at: 6 * HOUR }),
  ];
  for (const e of phase1) await producer.send([e]);
  // A hand-written garbage record under C's key, then a valid record for C on the same partition.
  const raw = kafka.producer();
  await raw.connect();
  await raw.send({ topic: TOPICS.alertsReceived, messages: [{ key: C, value: 'not json {', headers: { origin: 'test' } }] });
  // Garbage whose producer set a time no event can carry (out of JavaScript's range; year 10000): dead-lettered as well,
  // not a batch failing for ever in front of C's firing.
  await raw.send({
    topic: TOPICS.alertsReceived,
    messages: [
      { key: C, value: 'not json {', timestamp: '9000000000000000' },
      { key: C, value: 'not json {', timestamp: String(Date.UTC(10_000, 0, 1)) },
    ],
  });
  await raw.disconnect();
  await producer.send([firing(C)]);

  router = await start();
  await router.ready;
  const readyz = await fetch(`${router.url}/readyz`);
  expect(readyz.status).toBe(200);

  const want1 = expectedOutputs([...phase1, firing(C)]);
  const got1 = await waitFor(
    async () => {
      const all = await readAll();
      return all.incidents.length >= 7 && all.slack.length >= 8 && all.pager.length >= 5 && all.dead.length >= 3 ? all : null;
    },
    { timeoutMs: 60_000, what: 'phase 1 outputs' },
  );

  // The exact sequence per alias, in order, on each topic.
  expect(summary(byAlias(got1.incidents, A))).toEqual(['IncidentOpened:first-notification', 'IncidentRepeated:duplicate', 'IncidentResolved:resolved']);
  expect(summary(byAlias(got1.incidents, B))).toEqual([
    'IncidentOpened:first-notification',
    'IncidentRepeated:repeat-interval-elapsed',
    'IncidentResolved:resolved',
  ]);
  expect(summary(byAlias(got1.incidents, C))).toEqual(['IncidentOpened:first-notification']);
  expect(summary(byAlias(got1.slack, A))).toEqual(['PostSlackMessage:root', 'PostSlackMessage:reply', 'UpdateSlackMessage:']);
  expect(summary(byAlias(got1.slack, B))).toEqual(['PostSlackMessage:root', 'PostSlackMessage:reply', 'PostSlackMessage:reply', 'UpdateSlackMessage:']);
  expect(summary(byAlias(got1.pager, A))).toEqual(['CreatePagerAlert:', 'ClosePagerAlert:']);
  expect(summary(byAlias(got1.pager, B))).toEqual(['CreatePagerAlert:', 'ClosePagerAlert:']);
  expect(summary(byAlias(got1.pager, C))).toEqual(['CreatePagerAlert:']);
  // Byte for byte what the pure decider says, each exactly once.
  const sortById = (l: AnyEnvelope[]) => [...l].sort((x, y) => x.id.localeCompare(y.id));
  expect(sortById(withoutSharedSeen([...got1.incidents, ...got1.slack, ...got1.pager]))).toEqual(sortById(want1));

  // The garbage records went to the dead-letter topic with where they came from and why.
  expect(got1.dead).toHaveLength(3);
  const [dl, farOff, year10000] = got1.dead.map((r) => r.event as Envelope<'DeadLettered'>) as [Envelope<'DeadLettered'>, Envelope<'DeadLettered'>, Envelope<'DeadLettered'>];
  for (const [d, stamp] of [[farOff, '9000000000000000'], [year10000, String(Date.UTC(10_000, 0, 1))]] as const) {
    expect(d.data.origin).toMatchObject({ key: C, timestamp: stamp });
    expect(Math.abs(Date.parse(d.data.attempts[0]!.at) - Date.now())).toBeLessThan(10 * 60_000);
  }
  expect(dl.type).toBe('DeadLettered');
  expect(dl.data.consumer).toBe(`${process.env.KAFKA_TOPIC_PREFIX}alertbus-router`);
  expect(dl.data.origin).toMatchObject({ topic: TOPICS.alertsReceived, key: C, value: 'not json {', valueEncoding: 'utf8', headers: { origin: 'test' } });
  expect(dl.data.attempts[0]!.error).toMatch(/not JSON/);

  const metrics = await (await fetch(`${router.url}/metrics`)).text();
  expect(metrics).toMatch(/alertbus_router_decisions_total\{[^}]*type="IncidentOpened"[^}]*reason="first-notification"[^}]*\} 3/);
  expect(metrics).toMatch(/alertbus_router_batch_transaction_seconds_count\{[^}]*\} [1-9]/);
  // Every committed batch's time, by stage: each stage counted once per batch committed.
  const stageCount = (stage: string) => Number(new RegExp(`alertbus_router_batch_stage_seconds_count\\{[^}]*stage="${stage}"[^}]*\\} (\\d+)`).exec(metrics)?.[1]);
  const batches = stageCount('transaction');
  expect(batches).toBeGreaterThan(0);
  for (const stage of ['turn_wait', 'catch_up', 'decide', 'commit_wait']) expect(stageCount(stage)).toBe(batches);

  // Restart: state comes back from the state topic, so C repeats and A reopens.
  await router.close();
  router = null;
  const phase2 = [firing(C, { at: 10 * MINUTE }), firing(A, { at: 3 * MINUTE })];
  for (const e of phase2) await producer.send([e]);
  router = await start();
  await router.ready;

  const got2 = await waitFor(
    async () => {
      const all = await readAll();
      return all.incidents.length >= 9 ? all : null;
    },
    { timeoutMs: 60_000, what: 'phase 2 outputs' },
  );
  expect(summary(byAlias(got2.incidents, C))).toEqual(['IncidentOpened:first-notification', 'IncidentRepeated:duplicate']);
  expect(byAlias(got2.incidents, C)[1]!.data).toMatchObject({ count: 2, occurrence: 1 });
  expect(summary(byAlias(got2.incidents, A)).slice(-1)).toEqual(['IncidentReopened:reopened']);
  expect(byAlias(got2.incidents, A).at(-1)!.data).toMatchObject({ occurrence: 2, count: 1 });

  const want2 = expectedOutputs([...phase1, firing(C), ...phase2]);
  // Every opening records how far the router had read the other instances' incidents (router.shared.v1).
  for (const e of got2.incidents.filter((x) => x.type === 'IncidentOpened' || x.type === 'IncidentReopened')) expect(e.data).toHaveProperty('shared.offset');
  expect(sortById(withoutSharedSeen([...got2.incidents, ...got2.slack, ...got2.pager]))).toEqual(sortById(want2));
  const ids = [...got2.incidents, ...got2.slack, ...got2.pager].map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(got2.dead).toHaveLength(3);
});
