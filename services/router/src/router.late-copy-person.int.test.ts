/**
 * A person's resolve, then the sender's, then the other Alertmanager's late copy of the firing, against a real broker:
 * the sender's end is kept on router.state.v1, and after a restart the copy opens nothing, exactly as the pure decider says.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { builtinRules, incidentIdOf, Replayer } from '@alertbus/routing';
import { topicOf, TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { firing, MINUTE, resolved } from '@alertbus/routing/src/test-support/alerts';
import { buttonClick } from '@alertbus/routing/src/test-support/slack';
import { startRouter, type Router } from './index';

const P = 'alertmanager:late-copy-person';
const S1 = '2025-03-01T09:58:00Z';
const E1 = '2025-03-01T10:04:00Z';

let kafka: Kafka;
let producer: EventProducer;
let router: Router | null = null;

const start = () =>
  startRouter({ brokers: testBrokers(), port: 0, sessionTimeoutMs: 6_000, log: createLogger('router-late-copy-person', process.env.ROUTER_TEST_LOG ?? 'silent') });

const OUTPUT_TOPICS: string[] = [TOPICS.incidents, TOPICS.slackCommands, TOPICS.pagerCommands];
const outputs = async (): Promise<AnyEnvelope[]> =>
  (await Promise.all(OUTPUT_TOPICS.map((t) => readTopic(kafka, t)))).flat().map((r) => r.event!).filter((e) => e !== undefined && e.alias === P);
/** Waits until the router has written a decision caused by `input`. */
const decided = (input: { id: string }) =>
  waitFor(async () => ((await readTopic(kafka, TOPICS.incidents)).some((r) => r.event?.causationId === input.id) ? true : null), { timeoutMs: 60_000, what: `the decision of ${input.id}` });

beforeAll(async () => {
  kafka = await testKafka('router-late-copy-person');
  producer = new EventProducer(kafka);
  await producer.connect();
});

afterAll(async () => {
  await router?.close();
  await producer.disconnect();
});

test("a person's resolve, the sender's, a restart, then the late copy: one thread, one page", async () => {
  const first = firing(P, { startsAt: S1 });
  const click = buttonClick(P, incidentIdOf(P, 1, first.id), 'alertbus_resolve', { at: 3 * MINUTE });
  const senderResolve = resolved(P, { at: 5 * MINUTE, startsAt: S1, endsAt: E1 });
  const copy = firing(P, { at: 5 * MINUTE + 2_000, startsAt: S1, n: 1 });

  router = await start();
  await router.ready;
  // One at a time: the alert and the click travel on different topics.
  for (const input of [first, click, senderResolve]) {
    await producer.send([input]);
    await decided(input);
  }
  const states = await readTopic(kafka, TOPICS.routerState);
  expect(JSON.parse(states.filter((r) => r.key === P).at(-1)!.value!)).toMatchObject({
    status: 'resolved',
    resolvedBy: 'U0BOB',
    endsAt: '2025-03-01T10:04:00.000Z',
    senderResolvedAt: '2025-03-01T10:05:00.000Z',
  });

  await router.close();
  router = await start();
  await router.ready;
  await producer.send([copy]);
  await decided(copy);

  const got = await outputs();
  const copyDecision = got.filter((e) => e.causationId === copy.id);
  expect(copyDecision.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['EventSuppressed', 'occurrence-already-resolved']]);
  expect(got.filter((e) => e.type === 'PostSlackMessage' && (e.data as { purpose: string }).purpose === 'root')).toHaveLength(1);
  expect(got.filter((e) => e.type === 'CreatePagerAlert')).toHaveLength(1);
  // Everything exactly as the pure decider decides the same inputs.
  const replayer = new Replayer(builtinRules({ defaultChannel: '#alerts' }));
  const want = [first, click, senderResolve, copy].flatMap((i) => replayer.decide(i).events).filter((e) => OUTPUT_TOPICS.includes(topicOf(e.type)));
  expect(got.map((e) => e.id).sort()).toEqual(want.map((e) => e.id).sort());
});
