/**
 * What the sink runner's int tests share: the real broker's topics, a Postgres ledger and an event producer, made once
 * per test file (`useRunnerEnv` registers the hooks), and a runner of the Slack command topic with its own group and
 * ledger rows. The file's current runner, when it sets `env.runner`, is stopped after its tests.
 */
import type { Kafka } from 'kafkajs';
import { createLogger, createPool, createRegistry, ensureDatabase, type Pool } from '@alertbus/common';
import { ensureTopics, EventProducer } from '@alertbus/kafka';
import { TOPIC_PREFIX, TOPICS } from '@alertbus/schemas';
import { testKafka } from '../../../../test/support/kafka';
import { CommandLedger, migrateLedger } from '../ledger';
import { SinkRunner, type Notifier, type SinkOptions } from '../runner';

export interface RunnerEnv {
  kafka: Kafka;
  pool: Pool;
  producer: EventProducer;
  runner?: SinkRunner;
  /** A runner of the Slack command topic named `sink`; `producer`, `retryPolicy` and `registry` replace the file's own. */
  runnerOf(sink: string, notifier: Notifier, more?: Partial<Pick<SinkOptions, 'producer' | 'retryPolicy' | 'registry'>>): SinkRunner;
}

export function useRunnerEnv(name: string): RunnerEnv {
  const log = createLogger(name, process.env.LOOP_TEST_LOG ?? 'silent');
  const env = {
    runnerOf(sink: string, notifier: Notifier, more: Partial<Pick<SinkOptions, 'producer' | 'retryPolicy' | 'registry'>> = {}): SinkRunner {
      return new SinkRunner({
        name: sink,
        kafka: env.kafka,
        groupId: `${TOPIC_PREFIX}${sink}`,
        topic: TOPICS.slackCommands,
        producer: env.producer,
        ledger: new CommandLedger(env.pool, sink),
        notifier,
        log,
        registry: createRegistry(sink),
        dryRun: false,
        infraRetry: { minBackoffMs: 50, maxBackoffMs: 200 },
        ...more,
      });
    },
  } as RunnerEnv;

  beforeAll(async () => {
    env.kafka = await testKafka(name);
    await ensureTopics(env.kafka);
    await ensureDatabase(process.env.DATABASE_URL!);
    env.pool = createPool(process.env.DATABASE_URL!, 2);
    await migrateLedger(env.pool);
    env.producer = new EventProducer(env.kafka);
    await env.producer.connect();
  });

  afterAll(async () => {
    await env.runner?.stop();
    await env.producer?.disconnect();
    await env.pool?.end();
  });

  return env;
}
