/**
 * A firing inhibited while its alias had no incident pages once its inhibitor resolves, through the real router and
 * broker: the router's inhibition-end ticker writes an InhibitionEndedTick keyed by the kept firing's alias, and
 * deciding it opens the incident, with what the alert said. A firing resolved while inhibited opens nothing. Before,
 * nothing happened until the sender sent the alert again (Alertmanager's repeat_interval, 4 h by default), where
 * Alertmanager notifies at the group's next flush.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { firing, resolved, T0 } from '@alertbus/routing/src/test-support/alerts';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startRouter, type Router } from './index';
import { CLUSTER_MUTES_SERVICES, rulesFile } from './test-support/rules';

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

afterAll(async () => {
  await router?.close();
  await producer?.disconnect();
});

const events = async (topic: string) => (await readTopic(kafka, topic)).map((r) => r.event!) as AnyEnvelope[];

test('a firing inhibited while its alias had no incident opens its incident once its inhibitor resolves; one resolved meanwhile does not', async () => {
  kafka = await testKafka('router-inhibition-end-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-inhibition-end-producer' }));
  await producer.connect();
  const rulesPath = rulesFile(CLUSTER_MUTES_SERVICES, 'router-inhibition-end');
  const now = Date.now();
  const alert = (alertname: string, ms = 0) => ({ at: now - T0 + ms, title: `${alertname} in eu-9`, labels: { alertname, cluster: 'eu-9' } });
  const said = { description: 'Checkout answers 503 to every request.', links: [{ title: 'Runbook', url: 'https://runbooks.example/checkout' }] };
  router = await startRouter({
    brokers: testBrokers(),
    port: 0,
    instanceId: 'inhend',
    rulesPath,
    sessionTimeoutMs: 6_000,
    watchRules: false,
    inhibitionEndTickIntervalMs: 500,
    log: createLogger('router-inhibition-end-int', process.env.ROUTER_TEST_LOG ?? 'silent'),
  });
  // The cluster first (the aliases are on different partitions, decided in no set order): opened, it inhibits.
  await producer.send([firing('am:inhend-cluster', alert('ClusterDown'))]);
  await waitFor(async () => (await events(TOPICS.incidents)).some((e) => e.type === 'IncidentOpened' && e.alias === 'am:inhend-cluster'), {
    timeoutMs: 120_000,
    intervalMs: 500,
    what: 'the cluster opened',
  });
  await producer.send([
    firing('am:inhend-svc', { ...alert('ServiceDown', 1_000), ...said }),
    firing('am:inhend-svc-over', alert('ServiceDown', 1_000)),
    resolved('am:inhend-svc-over', alert('ServiceDown', 2_000)),
  ]);
  await waitFor(async () => (await events(TOPICS.incidents)).filter((e) => e.type === 'EventSuppressed' && e.alias.startsWith('am:inhend-svc')).length >= 3, {
    timeoutMs: 120_000,
    intervalMs: 500,
    what: 'the two services inhibited and the resolve decided',
  });
  // A few looks of the ticker while the cluster is down: no tick, nothing opened for the services.
  await new Promise((r) => setTimeout(r, 2_000));
  expect((await events(TOPICS.routerTicks)).filter((e) => e.type === 'InhibitionEndedTick')).toEqual([]);
  expect((await events(TOPICS.incidents)).filter((e) => e.type === 'IncidentOpened').map((e) => e.alias)).toEqual(['am:inhend-cluster']);

  // The cluster comes back: the service that still fires pages.
  const back = Date.now();
  await producer.send([resolved('am:inhend-cluster', alert('ClusterDown', back - now))]);
  const opened = await waitFor(async () => (await events(TOPICS.incidents)).find((e) => e.type === 'IncidentOpened' && e.alias === 'am:inhend-svc'), {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'am:inhend-svc opened after its inhibitor resolved',
  });
  expect(opened.data).toMatchObject({ title: 'ServiceDown in eu-9', ...said });
  // A few more looks of the ticker: nothing more is written.
  await new Promise((r) => setTimeout(r, 3_000));
  const ticks = (await events(TOPICS.routerTicks)).filter((e) => e.type === 'InhibitionEndedTick') as Array<Envelope<'InhibitionEndedTick'>>;
  expect(ticks.map((t) => `${t.alias}:${t.data.inhibitedBy}`)).toEqual(['am:inhend-svc:am:inhend-cluster']);
  expect(opened.causationId).toBe(ticks[0]!.id);
  const incidents = await events(TOPICS.incidents);
  expect(incidents.filter((e) => e.type === 'IncidentOpened').map((e) => e.alias).sort()).toEqual(['am:inhend-cluster', 'am:inhend-svc']);
  const commands = await events(TOPICS.slackCommands);
  const post = commands.find((e) => e.type === 'PostSlackMessage' && e.causationId === ticks[0]!.id);
  expect(JSON.stringify(post?.data)).toContain('https://runbooks.example/checkout');
  expect(await readTopic(kafka, TOPICS.deadLetter)).toEqual([]);
  const metrics = await (await fetch(`${router.url}/metrics`)).text();
  expect(metrics).toMatch(/^alertbus_router_inhibition_end_ticks_total(?:\{[^}]*\})? 1$/m);
}, 300_000);
