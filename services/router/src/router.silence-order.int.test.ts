/**
 * A silence accepted (written and acknowledged) before an alert was written applies to that alert, even when the
 * silences reader lags and a look-up of the silences topic's end made for an earlier alert is still in flight when the
 * alert is fetched: that look-up may have been answered before the silence was written, so the alert waits for one that
 * started after its fetch, and for the reader to get there.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, TopicEnds, createKafka } from '@alertbus/kafka';
import { builtinRules } from '@alertbus/routing';
import { firing, HOUR, T0 } from '@alertbus/routing/src/test-support/alerts';
import { deriveId, makeEnvelope, TOPICS } from '@alertbus/schemas';
import type { Consumer } from 'kafkajs';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { createRouterMetrics } from './metrics';
import { DEFAULT_PIPELINE_DEPTH, RouterProcessor } from './processor';
import { SilenceFollower } from './silence-follower';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const log = createLogger('router-silence-order-int', process.env.ROUTER_TEST_LOG ?? 'silent');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

let producer: EventProducer;
let follower: SilenceFollower | null = null;
let processor: RouterProcessor | null = null;

beforeAll(async () => {
  await testKafka('router-silence-order-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-silence-order-int-producer' }));
  await producer.connect();
});

afterAll(async () => {
  await processor?.stop();
  await follower?.stop();
  await producer.disconnect();
});

test('an alert fetched while an older look-up of the silences end is in flight waits for a newer one, and is silenced', async () => {
  const kafka = createKafka({ brokers: testBrokers(), clientId: 'router-silence-order-int', log });
  follower = new SilenceFollower({ kafka, log });
  // The follower's look-ups of the topic's end: the first one's answer is held back until `release`.
  const ends = (follower as unknown as { ends: TopicEnds }).ends;
  const lookupsStarted: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  jest.spyOn(ends, 'latest').mockImplementation(async (topic: string) => {
    lookupsStarted.push(Date.now());
    const first = lookupsStarted.length === 1;
    const got = await TopicEnds.prototype.latest.call(ends, topic);
    if (first) await gate;
    return got;
  });
  await follower.start();
  const consumer = () => (follower as unknown as { loop: { consumer: Consumer } }).loop.consumer;

  const metrics = createRouterMetrics();
  processor = new RouterProcessor({
    kafka,
    log,
    rules: () => rules,
    silences: {
      lookup: follower.book,
      catchUp: (ms, since) => follower!.catchUp(ms, since),
      lookAhead: (since) => follower!.lookAhead(since),
    },
    // Longer than the test: a decision taken without the silence here is the ordering broken, not a timeout.
    silencesCatchUpTimeoutMs: 600_000,
    metrics,
    instanceId: 'silence-order-test',
    sessionTimeoutMs: 6_000,
    pipelineDepth: DEFAULT_PIPELINE_DEPTH,
  });
  await processor.start();
  await processor.ready;
  const reasons = async () =>
    (await metrics.decisions.get()).values.flatMap((v) => Array.from({ length: v.value }, () => String(v.labels.reason)));

  // An earlier alert: its batch's look-up starts and is held in flight.
  await producer.send([firing('alertmanager:silence-order-earlier', { at: 0, labels: { alertname: 'Earlier', team: 'loud' } })]);
  await waitFor(async () => lookupsStarted.length >= 1, { timeoutMs: 30_000, what: 'the earlier alert looking up the silences end' });

  // The reader falls behind; a silence is accepted, then an alert it matches is written.
  consumer().pause([{ topic: TOPICS.silences }]);
  await producer.send([
    makeEnvelope({
      id: deriveId('silence', 'silence-order', 'created'),
      type: 'SilenceCreated',
      alias: 'silence:silence-order',
      occurredAt: iso(-HOUR),
      recordedAt: iso(-HOUR),
      source: 'history-api',
      data: { silenceId: 'silence-order', matchers: ['team="quiet"'], startsAt: iso(-HOUR), endsAt: iso(HOUR), createdBy: 'ana', comment: 'ordering test', kind: 'silence' },
    }),
  ]);
  await producer.send([firing('alertmanager:silence-order-later', { at: 1_000, labels: { alertname: 'Later', team: 'quiet' } })]);

  // The older look-up answers now (with an end from before the silence). The later alert may be decided only on a look-up
  // started after its fetch: once one started, the reader catches up.
  release();
  await waitFor(async () => lookupsStarted.length >= 2 || (await reasons()).length >= 2, { timeoutMs: 60_000, what: 'a newer look-up, or the later alert decided' });
  consumer().resume([{ topic: TOPICS.silences }]);

  await waitFor(async () => (await reasons()).length >= 2, { timeoutMs: 60_000, what: 'both alerts decided' });
  expect((await reasons()).sort()).toEqual(['first-notification', 'silenced']);
  expect(follower.book.size).toBe(1);
}, 120_000);
