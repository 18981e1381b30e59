/**
 * A storm against the real broker: 3,000 new incidents in one channel within a minute, all waiting on the input
 * topic when the router starts, so its batches are large. Each alert is decided into an incident event, and most into
 * a storm-control suppression too (the summary itself is updated for each of a storm's first 100 incidents, then at
 * most once a second of event time and every 50 incidents): a batch's outputs are several times what the broker takes in one produce request (message.max.bytes). The router writes them in several calls inside the batch's one transaction, and every input
 * is decided exactly once, nothing dead-lettered.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { firing } from '@alertbus/routing/src/test-support/alerts';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startRouter, type Router } from './index';

const ALERTS = 3_000;
let kafka: Kafka;
let router: Router | null = null;

beforeAll(async () => {
  kafka = await testKafka('router-storm-int');
  const producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-storm-producer' }));
  await producer.connect();
  try {
    const inputs = Array.from({ length: ALERTS }, (_, i) =>
      firing(`am:storm-${i}`, { at: i * 10, title: `node-${i} is down`, severity: 'warning', labels: { alertname: 'NodeDown', instance: `node-${i}` } }),
    );
    for (let i = 0; i < inputs.length; i += 100) await producer.send(inputs.slice(i, i + 100));
  } finally {
    await producer.disconnect();
  }
});

afterAll(async () => {
  await router?.close();
});

/** Transactions that took more than one produce call, from the router's own histogram. */
function splitTransactions(metrics: string): number {
  const value = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? NaN);
  return value(/^alertbus_router_batch_produce_calls_count(?:\{[^}]*\})? (\d+)/m) - value(/^alertbus_router_batch_produce_calls_bucket\{[^}]*le="1"[^}]*\} (\d+)/m);
}

test(`${ALERTS} storm decisions waiting at start: every one decided once, the large batches written in several produce calls`, async () => {
  router = await startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000, log: createLogger('router-storm-int', process.env.ROUTER_TEST_LOG ?? 'silent') });
  await waitFor(async () => (await readTopic(kafka, TOPICS.incidents)).filter((r) => r.event?.type === 'IncidentOpened').length >= ALERTS, {
    timeoutMs: 300_000,
    intervalMs: 1_000,
    what: `all ${ALERTS} incidents opened`,
  });
  const metrics = await (await fetch(`${router.url}/metrics`)).text();

  const incidents = (await readTopic(kafka, TOPICS.incidents)).map((r) => r.event!) as AnyEnvelope[];
  const opened = incidents.filter((e) => e.type === 'IncidentOpened');
  expect(opened).toHaveLength(ALERTS);
  expect(new Set(opened.map((e) => e.alias)).size).toBe(ALERTS);
  expect(new Set(incidents.map((e) => e.id)).size).toBe(incidents.length);
  const slack = (await readTopic(kafka, TOPICS.slackCommands)).map((r) => r.event!) as AnyEnvelope[];
  const summaries = slack.filter((e) => e.alias.startsWith('storm:'));
  // Threads of their own for the first ones, then summaries: posted once each, then updated in place. Each partition's
  // batch is decided against what the partitions decided before it saw (one instance, batches in any order), so a
  // few more threads and summaries than one ordered stream would give; never one each.
  const storms = [...new Set(summaries.map((e) => e.alias))];
  expect(slack.filter((e) => e.type === 'PostSlackMessage' && !e.alias.startsWith('storm:')).length).toBeLessThanOrEqual(30 * 6);
  expect(storms.length).toBeGreaterThanOrEqual(1);
  expect(storms.length).toBeLessThanOrEqual(6);
  for (const alias of storms) {
    const commands = summaries.filter((e) => e.alias === alias).map((e) => e.type);
    expect(commands).toEqual(['PostSlackMessage', ...Array(commands.length - 1).fill('UpdateSlackMessage')]);
  }
  expect([...incidents, ...slack].reduce((n, e) => n + JSON.stringify(e).length, 0)).toBeGreaterThan(2 * 1_048_588);
  // Far fewer summary updates than gathered alerts: one per each of a storm's first 100 incidents, then at most one per
  // second of event time (30 s here) and one per 50 joins.
  expect(summaries.length).toBeLessThan(storms.length * (100 + 30 + ALERTS / 50 + 2));
  expect(await readTopic(kafka, TOPICS.deadLetter)).toEqual([]);
  expect(splitTransactions(metrics)).toBeGreaterThan(0);
});
