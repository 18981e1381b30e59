/**
 * Backtesting across late copies against real history: resolves the running router kept before the window (a resolve
 * before its firing; a sender's resolve after a person's) come back from incidents.v1, so a backtest with the rules in
 * force reports no change for the late copies at the window's start.
 */
import { EventProducer, createKafka } from '@alertbus/kafka';
import { TOPICS } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { builtinRules } from '@alertbus/routing';
import { HOUR, T0 } from '@alertbus/routing/src/test-support/alerts';
import { lateCopiesAroundWindow } from '@alertbus/routing/src/test-support/late-copies';
import { startRouter, type Router } from '../index';
import { backtestFromKafka } from '@alertbus/backtest';

const KEPT = 'alertmanager:bt-late-kept';
const BOTH = 'alertmanager:bt-late-both';
const { before, window } = lateCopiesAroundWindow({ kept: KEPT, both: BOTH });

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

beforeAll(async () => {
  kafka = await testKafka('backtest-late-copy-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'backtest-late-copy-int-producer' }));
  await producer.connect();
  router = await startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000 });
  await router.ready;
  // One at a time, each decided before the next: the alerts and the click travel on different topics.
  for (const input of [...before, ...window]) {
    await producer.send([input]);
    await waitFor(async () => ((await readTopic(kafka, TOPICS.incidents)).some((rec) => rec.event?.causationId === input.id) ? true : null), {
      timeoutMs: 60_000,
      what: `the decision on ${input.alias}`,
    });
  }
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

test('the late copies opened nothing, and a backtest with the same rules reports no change for them', async () => {
  const report = await backtestFromKafka({ kafka, rules: builtinRules({ defaultChannel: '#alerts' }), fromMs: T0, toMs: T0 + HOUR });
  expect(report.changes).toEqual([]);
  expect(report.totals).toMatchObject({
    inputs: 2,
    undecided: 0,
    changed: 0,
    actual: { opened: 0, paged: 0, suppressed: { 'occurrence-already-resolved': 2 } },
    candidate: { opened: 0, paged: 0, suppressed: { 'occurrence-already-resolved': 2 } },
  });
});
