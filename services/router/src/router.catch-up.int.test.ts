/**
 * Only an alert's decision looks at the silences and at other aliases' incidents (and a slash command's at the
 * silences: router.unsilence-order.int.test.ts), so only a batch that holds one waits for their topics' ends: a batch of
 * Slack mentions or deliveries is decided without those look-ups.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { builtinRules, SilenceBook } from '@alertbus/routing';
import { firing } from '@alertbus/routing/src/test-support/alerts';
import { BOT_MENTION, slackMessage } from '@alertbus/routing/src/test-support/slack';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { createRouterMetrics } from './metrics';
import { DEFAULT_PIPELINE_DEPTH, RouterProcessor } from './processor';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const log = createLogger('router-catch-up-int', process.env.ROUTER_TEST_LOG ?? 'silent');

let producer: EventProducer;
let processor: RouterProcessor | null = null;

beforeAll(async () => {
  await testKafka('router-catch-up-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-catch-up-int-producer' }));
  await producer.connect();
});

afterAll(async () => {
  await processor?.stop();
  await producer.disconnect();
});

test('a batch without an alert is decided without catching up with the silences; an alert still catches up', async () => {
  const metrics = createRouterMetrics();
  const catchUps: number[] = [];
  const lookAheads: number[] = [];
  processor = new RouterProcessor({
    kafka: createKafka({ brokers: testBrokers(), clientId: 'router-catch-up-int', log }),
    log,
    rules: () => rules,
    silences: {
      lookup: new SilenceBook(),
      catchUp: async (_ms, since) => {
        catchUps.push(since ?? 0);
        return true;
      },
      lookAhead: (since) => lookAheads.push(since),
    },
    metrics,
    instanceId: 'catch-up-test',
    sessionTimeoutMs: 6_000,
    pipelineDepth: DEFAULT_PIPELINE_DEPTH,
  });
  await processor.start();
  await processor.ready;
  const decided = async () => (await metrics.inputs.get()).values.reduce((n, v) => n + v.value, 0);

  await producer.send([slackMessage('1700000100.000100', { text: `${BOT_MENTION} help` })]);
  await waitFor(async () => (await decided()) >= 1, { timeoutMs: 30_000, what: 'the Slack input decided' });
  expect(catchUps).toEqual([]);
  expect(lookAheads).toEqual([]);

  await producer.send([firing('alertmanager:catch-up-int-aaaa')]);
  await waitFor(async () => (await decided()) >= 2, { timeoutMs: 30_000, what: 'the alert decided' });
  expect(catchUps.length).toBeGreaterThanOrEqual(1);
}, 90_000);
