/**
 * The inhibition's end across router instances, against a real broker: the cluster's alert is held by one instance,
 * the service it mutes by the other, which learns of the cluster's incident and of its resolve through
 * router.shared.v1 only. Once the cluster resolves, the service's instance writes the InhibitionEndedTick and pages;
 * while the cluster is open it writes none.
 */
import { createKafka, EventProducer } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { firing, resolved, T0 } from '@alertbus/routing/src/test-support/alerts';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import type { Router } from './index';
import { aliasOn, bothHolding, startInstance } from './test-support/instances';
import { CLUSTER_MUTES_SERVICES, rulesFile } from './test-support/rules';

let kafka: Kafka;
let producer: EventProducer;
const routers: Router[] = [];

afterAll(async () => {
  for (const r of routers) await r.close();
  await producer?.disconnect();
});

const events = async (topic: string) => (await readTopic(kafka, topic)).map((r) => r.event!).filter(Boolean) as AnyEnvelope[];

test("the service muted by another instance's cluster pages once that cluster resolves, and not before", async () => {
  kafka = await testKafka('router-inhibition-end-shared');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-inhibition-end-shared-producer' }));
  await producer.connect();
  const rulesPath = rulesFile(CLUSTER_MUTES_SERVICES, 'router-inhibition-end-shared');
  const tick = { inhibitionEndTickIntervalMs: 500 };
  routers.push(await startInstance(rulesPath, 'ie-a', tick));
  routers.push(await startInstance(rulesPath, 'ie-b', tick));
  const [a, b] = routers as [Router, Router];
  await bothHolding(a, b);
  const cluster = await aliasOn(kafka, a.partitions, 'ie-cluster');
  const service = await aliasOn(kafka, b.partitions, 'ie-service');
  const now = Date.now();
  const labels = (alertname: string) => ({ alertname, cluster: 'eu-7' });
  const at = (ms = 0) => Date.now() - T0 + ms;

  await producer.send([firing(cluster, { at: now - T0, severity: 'critical', title: 'ClusterDown eu-7', labels: labels('ClusterDown') })]);
  await waitFor(async () => (await events(TOPICS.incidents)).some((e) => e.type === 'IncidentOpened' && e.alias === cluster), { timeoutMs: 90_000, what: 'the cluster opened' });
  // Its instance reads router.shared.v1 to its end before deciding it: the cluster's incident is there.
  await producer.send([firing(service, { at: at(), title: 'ServiceDown checkout', labels: labels('ServiceDown') })]);
  const first = await waitFor(async () => (await events(TOPICS.incidents)).find((e) => e.alias === service), { timeoutMs: 90_000, what: 'the service decided' });
  expect(first.type).toBe('EventSuppressed');
  expect(first.data).toMatchObject({ reason: 'inhibited', suppressedBy: { kind: 'inhibition', alias: cluster } });

  // The ticker looks every 500 ms: while the cluster is open, it writes nothing.
  await new Promise((r) => setTimeout(r, 3_000));
  expect((await events(TOPICS.routerTicks)).filter((e) => e.type === 'InhibitionEndedTick')).toEqual([]);

  await producer.send([resolved(cluster, { at: at(), severity: 'critical', title: 'ClusterDown eu-7', labels: labels('ClusterDown') })]);
  const opened = await waitFor(async () => (await events(TOPICS.incidents)).find((e) => e.type === 'IncidentOpened' && e.alias === service), {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'the service opened after the cluster resolved',
  });
  const ticks = (await events(TOPICS.routerTicks)).filter((e) => e.type === 'InhibitionEndedTick');
  expect(ticks.map((t) => [t.alias, t.data])).toEqual([[service, { inhibitedBy: cluster }]]);
  expect(opened.causationId).toBe(ticks[0]!.id);
  expect(await readTopic(kafka, TOPICS.deadLetter)).toEqual([]);
}, 300_000);
