import {
  createLogger,
  createPool,
  createRegistry,
  ensureDatabase,
  startOpsServer,
  StartWaits,
  untilReachable,
  type Logger,
  type Registry,
} from '@alertbus/common';
import { createKafka, ensureTopics, type EventProducer } from '@alertbus/kafka';
import { GROUPS, TOPICS } from '@alertbus/schemas';
import { CommandLedger, SinkRunner, createSinkProducer, migrateLedger, sinkReadiness } from '@alertbus/sink-runtime';
import type { OpsgenieSinkConfig } from './config';
import { createPagerClient } from './create-pager-client';
import { PagerNotifier } from './notifier';
import { migrateOpsgenieSink, UnconfirmedCloseStore } from './unconfirmed-closes';

export type { OpsgenieSinkConfig } from './config';
export { loadConfig } from './config';
export type { PagerClient, PagerProvider } from './pager-client';
export { createPagerClient } from './create-pager-client';
export { PagerNotifier } from './notifier';
export { migrateOpsgenieSink } from './unconfirmed-closes';

export const SINK_NAME = 'opsgenie-sink';

export interface StartOptions {
  /** Aborted to stop the sink while it still waits for Postgres or Kafka at start: startOpsgenieSink rejects with StartAborted. */
  signal?: AbortSignal;
}

export interface OpsgenieSink {
  /** Base URL of the ops server (/healthz, /readyz, /metrics). */
  url: string;
  dryRun: boolean;
  log: Logger;
  registry: Registry;
  close(): Promise<void>;
}

/** Starts the pager sink: consumes pager commands, calls Opsgenie or JSM Ops, emits what happened. */
export async function startOpsgenieSink(config: OpsgenieSinkConfig & StartOptions): Promise<OpsgenieSink> {
  const log = createLogger(SINK_NAME, config.logLevel);
  const registry = createRegistry(SINK_NAME);
  const dryRun = !config.apiKey;

  // The ops server answers from the start: while Postgres or Kafka is waited for the sink is alive, not ready, and says why.
  const waits = new StartWaits(registry, config.signal);
  let readiness: () => Promise<string | null> | string | null = () => null;
  const ops = await startOpsServer(config.port, registry, { ready: waits.readiness(() => readiness()) }, config.host);
  const wait = { log, policy: config.infraRetry, waits };
  // Not connected before its first query: the database is waited for below.
  const pool = createPool(config.databaseUrl, 5, config.pgTimeouts);
  let producer: EventProducer | undefined;
  let runner: SinkRunner | undefined;
  // Stop taking work first, then flush, then release the database.
  const shutdown = async () => {
    for (const step of [() => ops.app.close(), () => runner?.stop(), () => producer?.disconnect(), () => pool.end()]) {
      await Promise.resolve()
        .then(step)
        .catch((err: Error) => log.error({ error: err.message }, 'error while closing'));
    }
  };
  try {
    await untilReachable('Postgres', () => ensureDatabase(config.databaseUrl, config.pgTimeouts), wait);
    await untilReachable('Postgres', () => migrateLedger(pool), wait);
    await untilReachable('Postgres', () => migrateOpsgenieSink(pool), wait);
    const kafka = createKafka({ brokers: config.kafkaBrokers, clientId: SINK_NAME, log });
    await untilReachable('Kafka', () => ensureTopics(kafka), wait);
    producer = createSinkProducer(kafka);
    const connecting = producer;
    await untilReachable('Kafka', () => connecting.connect(), wait);

    const client = config.apiKey
      ? createPagerClient(config.provider, { apiKey: config.apiKey, apiUrl: config.apiUrl, timeoutMs: config.requestTimeoutMs })
      : undefined;
    const notifier = new PagerNotifier({
      provider: config.provider,
      client,
      statusPolls: config.statusPolls,
      statusPollDelayMs: config.statusPollDelayMs,
      createSettleMs: config.createSettleMs,
      ...(config.closeWaitMaxMs !== undefined ? { closeWaitMaxMs: config.closeWaitMaxMs } : {}),
      ...(config.settleLookupIntervalMs !== undefined ? { settleLookupIntervalMs: config.settleLookupIntervalMs } : {}),
      unconfirmedCloses: new UnconfirmedCloseStore(pool),
      log,
    });
    const sinkRunner = new SinkRunner({
      name: SINK_NAME,
      kafka,
      groupId: GROUPS.opsgenieSink,
      topic: TOPICS.pagerCommands,
      producer,
      ledger: new CommandLedger(pool, SINK_NAME),
      notifier,
      log,
      registry,
      dryRun,
      retryPolicy: config.retryPolicy,
      infraRetry: config.infraRetry,
    });
    runner = sinkRunner;
    // Not ready while the pager refuses the key: the pages wait (retried), and the probe says why.
    readiness = async () => (await sinkReadiness(sinkRunner, pool)) ?? notifier.keyProblem() ?? null;
    waits.done();
    await sinkRunner.start();
  } catch (err) {
    await shutdown();
    throw err;
  }

  log.info(
    { provider: config.provider, apiUrl: config.apiUrl, dryRun, topic: TOPICS.pagerCommands, ops: ops.url },
    dryRun ? 'pager sink started in dry-run (OPSGENIE_API_KEY unset)' : 'pager sink started',
  );
  return { url: ops.url, dryRun, log, registry, close: shutdown };
}
