import { join } from 'node:path';
import {
  createLogger,
  createPool,
  createRegistry,
  ensureDatabase,
  loadMigrations,
  migrate,
  startOpsServer,
  type Pool,
  type Registry,
} from '@alertbus/common';
import { EventProducer, createKafka, ensureTopics } from '@alertbus/kafka';
import { CommandLedger, SinkRunner, migrateLedger } from '@alertbus/sink-runtime';
import { GROUPS, TOPICS } from '@alertbus/schemas';
import { SlackClient } from './client';
import type { SlackSinkConfig } from './config';
import { SlackNotifier } from './notifier';
import { ThreadStore } from './threads';

export * from './config';
export { SlackClient, toDeliveryError, RETRYABLE_PLATFORM_ERRORS } from './client';
export { SlackNotifier } from './notifier';

/** The sink's name in the command ledger, logs, metrics and as the `source` of its delivery events. */
export const SLACK_SINK = 'slack-sink';

export interface SlackSink {
  /** Base URL of /healthz, /readyz and /metrics. */
  opsUrl: string;
  dryRun: boolean;
  registry: Registry;
  close(): Promise<void>;
}

export async function migrateSlackSink(pool: Pool): Promise<void> {
  await migrateLedger(pool);
  await migrate(pool, SLACK_SINK, loadMigrations(join(__dirname, '..', 'migrations')));
}

/** Starts consuming Slack commands and executing them against the Web API (or dry, without a token). */
export async function startSlackSink(config: SlackSinkConfig): Promise<SlackSink> {
  const log = config.log ?? createLogger(SLACK_SINK, config.logLevel);
  const registry = createRegistry(SLACK_SINK);
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch((err) => log.warn({ err }, 'error while closing'));
  };

  try {
    await ensureDatabase(config.databaseUrl);
    const pool = createPool(config.databaseUrl);
    closers.push(() => pool.end());
    await migrateSlackSink(pool);

    const kafka = createKafka({ brokers: config.brokers, clientId: `alertbus-${SLACK_SINK}`, log });
    await ensureTopics(kafka);
    const producer = new EventProducer(kafka);
    await producer.connect();
    closers.push(() => producer.disconnect());

    const client = config.token
      ? new SlackClient({ token: config.token, apiUrl: config.apiUrl, timeoutMs: config.requestTimeoutMs, log })
      : undefined;
    const notifier = new SlackNotifier({ client, threads: new ThreadStore(pool), log, retryPolicy: config.retryPolicy });
    const runner = new SinkRunner({
      name: SLACK_SINK,
      kafka,
      groupId: GROUPS.slackSink,
      topic: TOPICS.slackCommands,
      producer,
      ledger: new CommandLedger(pool, SLACK_SINK),
      notifier,
      log,
      registry,
      dryRun: !client,
      retryPolicy: config.retryPolicy,
    });
    await runner.start();
    closers.push(() => runner.stop());

    const ops = await startOpsServer(
      config.port,
      registry,
      { ready: () => (!runner.isRunning ? 'not consuming' : !producer.connected ? 'producer disconnected' : null) },
      config.host,
    );
    closers.push(() => ops.app.close());

    if (!client) log.warn('SLACK_BOT_TOKEN is not set: dry-run, commands are recorded as deliveries but not sent');
    return { opsUrl: ops.url, dryRun: !client, registry, close };
  } catch (err) {
    await close();
    throw err;
  }
}
