/**
 * `/alertbus unsilence <id>` of a silence accepted before the command was written ends it, even when the silences
 * reader lags (a restart, a rebalance): the command waits for the reader as an alert does. Before, it was decided
 * against the silences read so far, answered "I know of no silence" and wrote nothing, and the silence muted on.
 */
import { createLogger } from '@alertbus/common';
import { EventProducer, createKafka } from '@alertbus/kafka';
import { builtinRules } from '@alertbus/routing';
import { deriveId, makeEnvelope, TOPICS } from '@alertbus/schemas';
import type { Consumer } from 'kafkajs';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { createRouterMetrics } from './metrics';
import { DEFAULT_PIPELINE_DEPTH, RouterProcessor } from './processor';
import { SilenceFollower } from './silence-follower';

const rules = builtinRules({ defaultChannel: '#alerts', oncallSchedule: 'ops' });
const log = createLogger('router-unsilence-order-int', process.env.ROUTER_TEST_LOG ?? 'silent');

let producer: EventProducer;
let follower: SilenceFollower | null = null;
let processor: RouterProcessor | null = null;

afterAll(async () => {
  await processor?.stop();
  await follower?.stop();
  await producer?.disconnect();
});

test('an unsilence decided while the silences reader lags waits for it, and ends the silence', async () => {
  const kafka = await testKafka('router-unsilence-order-int');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-unsilence-order-int-producer' }));
  await producer.connect();
  follower = new SilenceFollower({ kafka: createKafka({ brokers: testBrokers(), clientId: 'router-unsilence-order-int-follower', log }), log });
  await follower.start();
  const f = follower;
  processor = new RouterProcessor({
    kafka: createKafka({ brokers: testBrokers(), clientId: 'router-unsilence-order-int-router', log }),
    log,
    rules: () => rules,
    silences: { lookup: f.book, catchUp: (ms, since) => f.catchUp(ms, since), lookAhead: (since) => f.lookAhead(since) },
    // Long enough that the command is decided only once the reader caught up, not when a wait timed out.
    silencesCatchUpTimeoutMs: 120_000,
    metrics: createRouterMetrics(),
    instanceId: 'unsilence-order',
    sessionTimeoutMs: 6_000,
    pipelineDepth: DEFAULT_PIPELINE_DEPTH,
  });
  await processor.start();
  await processor.ready;

  // The reader falls behind (as after a restart or a rebalance), and a silence is accepted meanwhile.
  const consumer = (f as unknown as { loop: { consumer: Consumer } }).loop.consumer;
  consumer.pause([{ topic: TOPICS.silences }]);
  const now = Date.now();
  const at = (ms: number) => new Date(now + ms).toISOString();
  const id = 'unsilence-order-1';
  await producer.send([
    makeEnvelope({
      id: deriveId('silence', id, 'created'),
      type: 'SilenceCreated',
      alias: `silence:${id}`,
      occurredAt: at(-1_000),
      recordedAt: at(-1_000),
      source: 'history-api',
      data: { silenceId: id, matchers: ['team="db"'], startsAt: at(-1_000), endsAt: at(3_600_000), createdBy: 'alice', comment: 'the wrong window', kind: 'silence' },
    }),
  ]);
  // Then somebody ends it from Slack.
  const trigger = 'unsilence-order-trigger-1';
  const commandId = deriveId('slack-slash', 'T0TEAM', trigger);
  await producer.send([
    makeEnvelope({
      id: commandId,
      type: 'SlackSlashCommandReceived',
      alias: `slack-slash:T0TEAM:${trigger}`,
      occurredAt: at(0),
      recordedAt: at(0),
      source: 'ingest/slack-commands',
      correlationId: commandId,
      data: { command: '/alertbus', text: `unsilence ${id}`, team: 'T0TEAM', channel: 'C0OPS', user: 'U0ALICE', responseUrl: 'https://hooks.slack.com/commands/T0TEAM/1/abc', triggerId: trigger, via: 'http', raw: {} },
    }),
  ]);
  // Not answered while the reader has not read the silence (the command waits for it, as an alert does).
  await new Promise((r) => setTimeout(r, 3_000));
  const answers = async () => (await readTopic(kafka, TOPICS.slackCommands)).filter((r) => r.event?.type === 'AnswerSlashCommand');
  expect(await answers()).toEqual([]);
  consumer.resume([{ topic: TOPICS.silences }]);

  const [answer] = await waitFor(async () => ((await answers()).length > 0 ? answers() : undefined), { timeoutMs: 60_000, what: 'the answer to unsilence' });
  expect((answer!.event!.data as { answer: { text: string } }).answer.text).not.toContain('I know of no silence');
  const expired = await waitFor(
    async () => (await readTopic(kafka, TOPICS.silences)).find((r) => r.event?.type === 'SilenceExpired'),
    { timeoutMs: 60_000, what: 'the SilenceExpired the unsilence writes' },
  );
  expect(expired.event!.data).toMatchObject({ silenceId: id });
  await waitFor(() => f.book.find({ team: 'db' }, Date.now()) === undefined, { timeoutMs: 30_000, what: 'the silence to end' });
}, 180_000);
