/**
 * A firing silenced when it fired pages when its silence ends, through the real router and broker: one silence runs
 * out (its endsAt passes), another is ended early (SilenceExpired, as `/alertbus unsilence` writes it). The router's
 * silence-end ticker writes a SilenceEndedTick keyed by each kept firing's alias, and deciding it opens the incident.
 * A firing resolved during its silence opens nothing. Before, nothing happened until the sender sent the alert again
 * (Alertmanager's repeat_interval, 4 h by default).
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { deriveId, makeEnvelope, TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { firing, resolved, T0 } from '@alertbus/routing/src/test-support/alerts';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startRouter, type Router } from './index';

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

afterAll(async () => {
  await router?.close();
  await producer?.disconnect();
});

const events = async (topic: string) => (await readTopic(kafka, topic)).map((r) => r.event!) as AnyEnvelope[];

function silence(id: string, alertname: string, createdAt: number, endsAt: number): Envelope<'SilenceCreated'> {
  const at = new Date(createdAt).toISOString();
  return makeEnvelope({
    id: deriveId('silence', id, 'created'),
    type: 'SilenceCreated',
    alias: `silence:${id}`,
    occurredAt: at,
    recordedAt: at,
    source: 'history-api',
    data: { silenceId: id, matchers: [`alertname="${alertname}"`], startsAt: at, endsAt: new Date(endsAt).toISOString(), createdBy: 'ana', comment: 'maintenance', kind: 'maintenance' },
  });
}

test('a firing kept under a silence that runs out, or is ended early, opens its incident when the silence ends; one resolved meanwhile does not', async () => {
  kafka = await testKafka('router-silence-end-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-silence-end-producer' }));
  await producer.connect();
  const now = Date.now();
  const ENDS_IN = 8_000;
  await producer.send([silence('silend-short', 'SilEndA', now - 60_000, now + ENDS_IN), silence('silend-long', 'SilEndB', now - 60_000, now + 3_600_000)]);
  const alert = (alias: string, alertname: string, ms = 0) => ({ at: now - T0 + ms, title: `${alertname} on ${alias}`, labels: { alertname, instance: alias } });
  await producer.send([
    firing('am:silend-a', alert('am:silend-a', 'SilEndA')),
    firing('am:silend-b', alert('am:silend-b', 'SilEndB')),
    firing('am:silend-c', alert('am:silend-c', 'SilEndA')),
    resolved('am:silend-c', alert('am:silend-c', 'SilEndA', 1_000)),
  ]);
  router = await startRouter({
    brokers: testBrokers(),
    port: 0,
    instanceId: 'silend',
    sessionTimeoutMs: 6_000,
    watchRules: false,
    silenceEndTickIntervalMs: 500,
    log: createLogger('router-silence-end-int', process.env.ROUTER_TEST_LOG ?? 'silent'),
  });
  await waitFor(async () => (await events(TOPICS.incidents)).filter((e) => e.type === 'EventSuppressed').length >= 4, {
    timeoutMs: 120_000,
    intervalMs: 500,
    what: 'the three firings silenced and the resolve decided',
  });
  const early = await events(TOPICS.incidents);
  expect(early.filter((e) => e.type === 'IncidentOpened')).toEqual([]);

  // Maintenance went wrong: somebody ends the long silence early.
  const expiredAt = new Date().toISOString();
  await producer.send([
    makeEnvelope({
      id: deriveId('silence', 'silend-long', 'expired'),
      type: 'SilenceExpired',
      alias: 'silence:silend-long',
      occurredAt: expiredAt,
      recordedAt: expiredAt,
      source: 'history-api',
      data: { silenceId: 'silend-long', expiredBy: 'bo', expiredAt },
    }),
  ]);
  const openedB = await waitFor(async () => (await events(TOPICS.incidents)).find((e) => e.type === 'IncidentOpened' && e.alias === 'am:silend-b'), {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'am:silend-b opened after its silence was ended early',
  });
  // The short silence runs out by itself.
  const openedA = await waitFor(async () => (await events(TOPICS.incidents)).find((e) => e.type === 'IncidentOpened' && e.alias === 'am:silend-a'), {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'am:silend-a opened after its silence ran out',
  });
  expect(Date.parse(openedA.recordedAt)).toBeGreaterThanOrEqual(now + ENDS_IN);
  // A few more looks of the ticker: nothing more is written.
  await new Promise((r) => setTimeout(r, 3_000));
  const ticks = (await events(TOPICS.routerTicks)).filter((e) => e.type === 'SilenceEndedTick') as Array<Envelope<'SilenceEndedTick'>>;
  expect(ticks.map((t) => `${t.alias}:${t.data.silenceId}`).sort()).toEqual(['am:silend-a:silend-short', 'am:silend-b:silend-long']);
  const byTick = new Map(ticks.map((t) => [t.alias, t.id]));
  expect(openedA.causationId).toBe(byTick.get('am:silend-a'));
  expect(openedB.causationId).toBe(byTick.get('am:silend-b'));
  const incidents = await events(TOPICS.incidents);
  expect(incidents.filter((e) => e.type === 'IncidentOpened').map((e) => e.alias).sort()).toEqual(['am:silend-a', 'am:silend-b']);
  // The slack root and any page of each opening are the tick's decision too.
  const commands = await events(TOPICS.slackCommands);
  expect(commands.filter((e) => e.type === 'PostSlackMessage' && (e.causationId === byTick.get('am:silend-a') || e.causationId === byTick.get('am:silend-b')))).toHaveLength(2);
  expect(await readTopic(kafka, TOPICS.deadLetter)).toEqual([]);
  const metrics = await (await fetch(`${router.url}/metrics`)).text();
  expect(metrics).toMatch(/^alertbus_router_silence_end_ticks_total(?:\{[^}]*\})? 2$/m);
}, 300_000);
