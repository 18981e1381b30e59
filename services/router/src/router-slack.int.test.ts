/**
 * The router's Slack side against a real broker: inputs on slack.received.v1 and deliveries.v1, the hops it
 * sends itself through Kafka (thread links, forwarded `ack`), exactly the outputs the pure decisions give,
 * and after a restart the Slack records (request, command, thread link) restored from router.state.v1.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { topicOf, TOPICS, type AnyEnvelope, type AliasState } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { decide, builtinRules, type SlackInput, incidentIdOf } from '@alertbus/routing';
import { BOT_MENTION, messageAlias, rootPosted, SlackRouterSim, slackMessage } from '@alertbus/routing/src/test-support/slack';
import { firing } from '@alertbus/routing/src/test-support/alerts';
import { startRouter, type Router } from './index';

const A = 'alertmanager:int-slack-aaaa';
const ROOT_TS = '1700000000.000500';
const REQUEST_TS = '1700000000.000100';
const M = messageAlias(REQUEST_TS);
const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

const start = () =>
  startRouter({
    brokers: testBrokers(),
    port: 0,
    sessionTimeoutMs: 6_000,
    oncallSchedule: 'ops',
    log: createLogger('router-slack-int', process.env.ROUTER_TEST_LOG ?? 'silent'),
  });

/** The router's decisions and commands (what it sends itself on slack.received.v1 is checked through its effects). */
const OUTPUT_TOPICS: string[] = [TOPICS.incidents, TOPICS.slackCommands, TOPICS.pagerCommands];
const isOutput = (e: AnyEnvelope) => OUTPUT_TOPICS.includes(topicOf(e.type));

async function outputs(): Promise<AnyEnvelope[]> {
  const records = (await Promise.all(OUTPUT_TOPICS.map((t) => readTopic(kafka, t)))).flat();
  return records.map((r) => r.event!).filter(Boolean);
}

const sortedIds = (list: AnyEnvelope[]) => list.map((e) => e.id).sort();

beforeAll(async () => {
  kafka = await testKafka('router-slack-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-slack-int-producer' }));
  await producer.connect();
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

test('Slack requests, commands and thread acks through Kafka: exactly the pure decisions, and the same after a restart', async () => {
  const alert = firing(A);
  const incident = (decide(alert, undefined, rules).state as AliasState).incidentId;
  const request = slackMessage(REQUEST_TS, { text: `${BOT_MENTION} is anyone around?` });
  const posted = rootPosted(A, incident, ROOT_TS);
  const ack = slackMessage('1700000000.000600', { text: `${BOT_MENTION} ack`, channel: 'C0ALERTS', threadTs: ROOT_TS });
  const phase1: SlackInput[] = [request, posted, ack];

  await producer.send([alert]);
  await producer.send([request]);
  await producer.send([posted]);
  router = await start();
  await router.ready;
  // The ack only after the link exists (as in Slack: nobody types in a thread before its root is there).
  await waitFor(async () => (await readTopic(kafka, TOPICS.slackReceived)).some((r) => r.event?.type === 'SlackThreadLinked' && r.event.alias.endsWith(ROOT_TS)), {
    what: 'the thread link of the root post',
  });
  await producer.send([ack]);

  const sim = new SlackRouterSim(rules);
  sim.seed(decide(alert, undefined, rules).state!);
  const want1 = [...decide(alert, undefined, rules).events, ...phase1.flatMap((i) => sim.run(i))].filter(isOutput);
  const got1 = await waitFor(async () => {
    const all = await outputs();
    return all.some((e) => e.type === 'AcknowledgePagerAlert') && all.length >= want1.length ? all : null;
  }, { what: 'the request answered and the alert acknowledged' });
  expect(sortedIds(got1)).toEqual(sortedIds(want1));
  expect(got1.find((e) => e.type === 'ReplyWithOnCall')).toMatchObject({ alias: M, data: { schedule: 'ops', threadTs: REQUEST_TS } });
  expect(got1.find((e) => e.type === 'IncidentAcknowledged')).toMatchObject({ alias: A, data: { incidentId: incident, by: 'U0ALICE' } });

  // Restart: the Slack incident, the command message and the thread link come back from router.state.v1.
  await router.close();
  router = null;
  const again = slackMessage(REQUEST_TS, { text: `${BOT_MENTION} is anyone around?`, delivery: 1, retryNum: 1, at: 60_000 });
  const ackAgain = slackMessage('1700000000.000600', { text: `${BOT_MENTION} ack`, channel: 'C0ALERTS', threadTs: ROOT_TS, delivery: 1, retryNum: 1, at: 60_000 });
  const resolve = slackMessage('1700000000.000700', { text: `${BOT_MENTION} resolve`, channel: 'C0ALERTS', threadTs: ROOT_TS, at: 120_000 });
  for (const e of [again, ackAgain, resolve]) await producer.send([e]);
  router = await start();
  await router.ready;

  const want2 = [...want1, ...[again, ackAgain, resolve].flatMap((i) => sim.run(i)).filter(isOutput)];
  const got2 = await waitFor(async () => {
    const all = await outputs();
    return all.some((e) => e.type === 'ClosePagerAlert') && all.length >= want2.length ? all : null;
  }, { what: 'the redeliveries suppressed and the alert resolved' });
  expect(sortedIds(got2)).toEqual(sortedIds(want2));
  const suppressed = got2.filter((e) => e.type === 'EventSuppressed' && (e.data as { inputId: string }).inputId !== undefined);
  expect(suppressed.find((e) => (e.data as { inputId: string }).inputId === again.id)?.data).toMatchObject({ reason: 'duplicate', incidentId: incidentIdOf(M, 1, request.id) });
  expect(suppressed.find((e) => (e.data as { inputId: string }).inputId === ackAgain.id)?.data).toMatchObject({ reason: 'duplicate' });
  expect(got2.find((e) => e.type === 'IncidentResolved')).toMatchObject({ alias: A, data: { by: 'U0ALICE' } });
});
