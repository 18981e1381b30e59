/**
 * Late copies from an Alertmanager HA pair (or a retried webhook) against a real broker: a firing delivered after its
 * own resolve, and a resolve delivered before its firing, open nothing, also after a restart restored the state from
 * router.state.v1; a new occurrence (a later startsAt) opens as always.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { withoutSharedSeen } from '../../../test/support/shared-seen';
import { firing, HOUR, MINUTE, resolved } from '@alertbus/routing/src/test-support/alerts';
import { startRouter, type Router } from './index';
import { expectedOutputs } from './test-support/expected';

/** Fired, resolved, then the other Alertmanager's copy of the firing. */
const A = 'alertmanager:late-copy-a';
/** Its resolve delivered before its firing. */
const B = 'alertmanager:late-copy-b';
const S1 = '2025-03-01T09:58:00Z';
const E1 = '2025-03-01T10:04:00Z';

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

const start = (stateRetentionMs?: number) =>
  startRouter({
    brokers: testBrokers(),
    port: 0,
    sessionTimeoutMs: 6_000,
    ...(stateRetentionMs !== undefined ? { stateRetentionMs } : {}),
    log: createLogger('router-late-copy', process.env.ROUTER_TEST_LOG ?? 'silent'),
  });

const metric = async (name: string) =>
  Number((await (await fetch(`${router!.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(name))?.split(' ').at(-1));


const eventsOf = async (topic: string) => (await readTopic(kafka, topic)).map((r) => r.event!).filter(Boolean);
const summary = (list: AnyEnvelope[], alias: string) =>
  list.filter((e) => e.alias === alias).map((e) => `${e.type}:${(e.data as { reason?: string; purpose?: string }).reason ?? (e.data as { purpose?: string }).purpose ?? ''}`);

beforeAll(async () => {
  kafka = await testKafka('router-late-copy');
  producer = new EventProducer(kafka);
  await producer.connect();
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

test('late copies open nothing, before and after a restart; a new occurrence opens', async () => {
  const phase1 = [firing(A, { startsAt: S1 }), resolved(A, { at: 5 * MINUTE, startsAt: S1, endsAt: E1 }), resolved(B, { startsAt: S1, endsAt: E1 })];
  router = await start();
  await router.ready;
  for (const e of phase1) await producer.send([e]);
  await waitFor(
    async () => {
      const incidents = await eventsOf(TOPICS.incidents);
      return summary(incidents, A).length >= 2 && summary(incidents, B).length >= 1 ? incidents : null;
    },
    { timeoutMs: 60_000, what: 'phase 1 decisions' },
  );
  // What a restore reads: A's state with the sender's end, B's kept resolve.
  const states = await readTopic(kafka, TOPICS.routerState);
  const latest = (key: string) => JSON.parse(states.filter((r) => r.key === key).at(-1)!.value!) as Record<string, unknown>;
  expect(latest(A)).toMatchObject({ status: 'resolved', endsAt: '2025-03-01T10:04:00.000Z' });
  expect(latest(B)).toMatchObject({ kind: 'alert-resolved', key: B, endsAt: '2025-03-01T10:04:00.000Z' });

  // Restart: the state comes back from router.state.v1.
  await router.close();
  router = await start();
  await router.ready;
  const phase2 = [
    firing(A, { at: 5 * MINUTE + 2_000, startsAt: S1 }),
    firing(B, { at: 2_000, startsAt: S1 }),
    firing(B, { at: 3 * MINUTE, startsAt: '2025-03-01T10:02:30Z', n: 1 }),
    firing(A, { at: 19 * MINUTE, startsAt: '2025-03-01T10:19:00Z' }),
  ];
  for (const e of phase2) await producer.send([e]);
  const got = await waitFor(
    async () => {
      const incidents = await eventsOf(TOPICS.incidents);
      return summary(incidents, A).length >= 4 && summary(incidents, B).length >= 3 ? incidents : null;
    },
    { timeoutMs: 60_000, what: 'phase 2 decisions' },
  );
  expect(summary(got, A)).toEqual(['IncidentOpened:first-notification', 'IncidentResolved:resolved', 'EventSuppressed:occurrence-already-resolved', 'IncidentReopened:reopened']);
  // B's firing with startsAt 10:02:30 started before its resolve's end (10:04): a copy too.
  expect(summary(got, B)).toEqual([
    'EventSuppressed:resolved-without-open-incident',
    'EventSuppressed:occurrence-already-resolved',
    'EventSuppressed:occurrence-already-resolved',
  ]);
  const slack = await eventsOf(TOPICS.slackCommands);
  const pager = await eventsOf(TOPICS.pagerCommands);
  // One thread and one page per occurrence of A, none for B's copies.
  expect(summary(slack, A).filter((s) => s === 'PostSlackMessage:root')).toHaveLength(2);
  expect(summary(pager, A).filter((s) => s.startsWith('CreatePagerAlert'))).toHaveLength(2);
  expect(summary(slack, B)).toEqual([]);
  expect(summary(pager, B)).toEqual([]);

  // B's next occurrence (a startsAt after the end) opens; and all of it exactly as the pure decider says.
  const next = firing(B, { at: 4 * MINUTE, startsAt: '2025-03-01T10:04:30Z', n: 2 });
  await producer.send([next]);
  const opened = await waitFor(async () => (await eventsOf(TOPICS.incidents)).find((e) => e.alias === B && e.type === 'IncidentOpened'), { what: 'B opened' });
  expect(opened.data).toMatchObject({ occurrence: 1, reason: 'first-notification', inputId: next.id });
  // Its commands were written in the same transaction as its decision.
  const settled = withoutSharedSeen([...(await eventsOf(TOPICS.incidents)), ...(await eventsOf(TOPICS.slackCommands)), ...(await eventsOf(TOPICS.pagerCommands))]);
  const want = expectedOutputs([...phase1, ...phase2, next]);
  const byId = (l: AnyEnvelope[]) => [...l].sort((x, y) => x.id.localeCompare(y.id));
  expect(byId(settled)).toEqual(byId(want));
});

test('an expired incident whose alias now keeps a resolve leaves the router\'s incidents (what inhibition and storms look at)', async () => {
  const C = 'alertmanager:late-copy-c';
  await router?.close();
  router = await start(HOUR);
  await router.ready;
  await producer.send([firing(C, { at: 30 * MINUTE }), resolved(C, { at: 31 * MINUTE })]);
  await waitFor(async () => ((await eventsOf(TOPICS.incidents)).some((e) => e.alias === C && e.type === 'IncidentResolved') ? true : null), { what: 'C resolved' });
  const incidents = await metric('alertbus_router_state_entries{kind="incident"');
  // Past the retention (within the grace, so not evicted yet): the incident counts as absent, the resolve is kept instead.
  const early = resolved(C, { at: 31 * MINUTE + HOUR + MINUTE, n: 1, startsAt: '2025-03-01T11:31:00Z', endsAt: '2025-03-01T11:31:30Z' });
  await producer.send([early]);
  await waitFor(async () => ((await eventsOf(TOPICS.incidents)).some((e) => e.data && (e.data as { inputId?: string }).inputId === early.id) ? true : null), {
    what: 'the early resolve decided',
  });
  await waitFor(async () => ((await metric('alertbus_router_state_entries{kind="incident"')) === incidents - 1 ? true : null), { what: 'C out of the incidents' });
  const states = await readTopic(kafka, TOPICS.routerState);
  expect(JSON.parse(states.filter((r) => r.key === C).at(-1)!.value!)).toMatchObject({ kind: 'alert-resolved', key: C });
});
