/**
 * A quiet storm's summary through the real router and broker: 400 new alerts into #alerts within one second of event
 * time, never resolved. Past 100 incidents a storm's summary is updated only for the first change of each second and
 * every 50 joins, so without a tick it stays short of the storm's size. A router that never ticks (its ticker's interval
 * an hour) decides them and stops; two routers then share the partitions, restoring that state (each its partitions'
 * incidents, the other's through router.shared.v1). The one holding the summary key's partition finds the stale summary,
 * writes a tick to router.ticks.v1 and decides it: the summary then counts every incident, with no resolve, and no tick
 * repeats an update.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { firing } from '@alertbus/routing/src/test-support/alerts';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startRouter, type Router } from './index';

const ALERTS = 400;
let kafka: Kafka;
let router: Router | null = null;
const routers: Router[] = [];

beforeAll(async () => {
  kafka = await testKafka('router-storm-tick-int');
  const producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-storm-tick-producer' }));
  await producer.connect();
  try {
    const inputs = Array.from({ length: ALERTS }, (_, i) =>
      firing(`am:quiet-${i}`, { at: i * 2, title: `node-${i} is down`, severity: 'warning', labels: { alertname: 'NodeDown', instance: `node-${i}` } }),
    );
    for (let i = 0; i < inputs.length; i += 100) await producer.send(inputs.slice(i, i + 100));
  } finally {
    await producer.disconnect();
  }
});

afterAll(async () => {
  await router?.close();
  await Promise.all(routers.map((r) => r.close()));
});

const start = (instanceId: string, extra: { stormTickIntervalMs?: number } = {}) =>
  startRouter({
    brokers: testBrokers(),
    port: 0,
    instanceId,
    sessionTimeoutMs: 6_000,
    watchRules: false,
    log: createLogger(`router-storm-tick-int-${instanceId}`, process.env.ROUTER_TEST_LOG ?? 'silent'),
    ...extra,
  });

const events = async (topic: string) => (await readTopic(kafka, topic)).map((r) => r.event!) as AnyEnvelope[];
const totalOf = (e: AnyEnvelope) => Number(/: (\d+) incidents? gathered here/.exec((e.data as { text: string }).text)![1]);

/** Per storm (summary incident id): the incidents it gathered, and its summary commands in order. */
async function storms(): Promise<Map<string, { members: number; summaries: AnyEnvelope[] }>> {
  const out = new Map<string, { members: number; summaries: AnyEnvelope[] }>();
  const of = (id: string) => out.get(id) ?? out.set(id, { members: 0, summaries: [] }).get(id)!;
  for (const e of await events(TOPICS.incidents)) {
    const by = e.type === 'EventSuppressed' ? (e as Envelope<'EventSuppressed'>).data.suppressedBy : undefined;
    if (by?.kind === 'storm') of(by.summaryIncidentId).members += 1;
  }
  for (const e of await events(TOPICS.slackCommands)) if (e.alias.startsWith('storm:')) of((e.data as { incidentId: string }).incidentId).summaries.push(e);
  return out;
}

const showsAll = (s: { members: number; summaries: AnyEnvelope[] }) => s.summaries.length > 0 && totalOf(s.summaries[s.summaries.length - 1]!) === s.members;

test(`a storm of ${ALERTS} that goes quiet: its summary shows every incident without a resolve, through a tick the restarted router writes`, async () => {
  // A router that never ticks: the storm's summary is left where the joins' own updates left it.
  router = await start('0', { stormTickIntervalMs: 3_600_000 });
  await waitFor(async () => (await events(TOPICS.incidents)).filter((e) => e.type === 'IncidentOpened').length >= ALERTS, {
    timeoutMs: 300_000,
    intervalMs: 1_000,
    what: `all ${ALERTS} incidents opened`,
  });
  const before = await storms();
  const [largestId, largest] = [...before].sort(([, a], [, b]) => b.members - a.members)[0]!;
  expect(largest.members).toBeGreaterThan(100);
  expect(showsAll(largest)).toBe(false);
  expect(await readTopic(kafka, TOPICS.routerTicks)).toEqual([]);
  await router.close();
  router = null;

  // Two successors share the partitions: whichever holds the summary key's partition finds the stale summary and ticks.
  routers.push(await start('1'), await start('2'));
  const after = await waitFor(
    async () => {
      const [a, b] = routers.map((r) => r.partitions);
      if (a!.length === 0 || b!.length === 0 || [...a!, ...b!].sort().join() !== '0,1,2,3,4,5') return undefined;
      const now = await storms();
      return [...now.values()].every(showsAll) ? now : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 1_000, what: 'both routers holding partitions, every storm summary showing all of its incidents' },
  );
  const ticks = (await events(TOPICS.routerTicks)) as Array<Envelope<'StormSummaryTick'>>;
  expect(ticks.length).toBeGreaterThan(0);
  const tickIds = new Set(ticks.map((t) => t.id));
  for (const t of ticks) expect(t.alias).toBe(`storm:${t.data.channel}:${t.data.since}`);
  for (const s of after.values()) {
    const byTicks = s.summaries.filter((e) => tickIds.has(e.causationId!));
    if (s.members <= 100) expect(byTicks).toEqual([]);
    // Never the same update twice from ticks: a tick after one that showed the storm as it is finds nothing to do.
    for (let i = 1; i < byTicks.length; i++) expect(JSON.stringify(byTicks[i]!.data)).not.toBe(JSON.stringify(byTicks[i - 1]!.data));
  }
  expect(after.get(largestId)!.summaries.some((e) => tickIds.has(e.causationId!))).toBe(true);
  // Nothing resolved: the summary got there on a tick alone.
  expect((await events(TOPICS.incidents)).filter((e) => e.type === 'IncidentResolved')).toEqual([]);
  expect(await readTopic(kafka, TOPICS.deadLetter)).toEqual([]);
  const metrics = await Promise.all(routers.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
  expect(metrics.some((m) => /^alertbus_router_storm_ticks_total(?:\{[^}]*\})? [1-9]/m.test(m))).toBe(true);
}, 600_000);
