/** history: projects incident events and delivery results into Postgres and serves the query API over them. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import {
  createLogger,
  createPool,
  ensureDatabase,
  loadMigrations,
  migrate,
  refuseWhileStarting,
  StartWaits,
  untilReachable,
  type Pool,
} from '@alertbus/common';
import { EventProducer, createKafka, ensureTopics } from '@alertbus/kafka';
import { MIGRATIONS_DIR } from '@alertbus/projection';
import { buildApp } from './app';
import { readsOpen } from './auth/access';
import { DEFAULT_HISTORY_HOST, DEFAULT_HISTORY_PORT, checkExposure, type HistoryConfig } from './config';
import { createHistoryMetrics, type HistoryMetrics } from './metrics';
import { Projector } from './projector';
import { IDEMPOTENCY_MIGRATIONS, IDEMPOTENCY_MIGRATIONS_OWNER } from './silences/idempotency';

export { buildApp } from './app';
export { readHistoryConfig, type HistoryConfig } from './config';
export { parseApiTokens, type ApiToken, type Role } from './auth/tokens';
export { Projector } from './projector';

export interface HistoryOptions extends Pick<HistoryConfig, 'brokers' | 'databaseUrl'>, Partial<Omit<HistoryConfig, 'brokers' | 'databaseUrl'>> {
  log?: Logger;
  /** Consumer group and stored-offsets name; defaults to GROUPS.history. */
  groupId?: string;
  /** Aborted to stop history while it still waits for Postgres or Kafka at start: startHistory rejects with StartAborted. */
  signal?: AbortSignal;
}

export interface HistoryService {
  url: string;
  port: number;
  app: FastifyInstance;
  pool: Pool;
  metrics: HistoryMetrics;
  projector: Projector;
  close(): Promise<void>;
}

export async function startHistory(config: HistoryOptions): Promise<HistoryService> {
  const log = config.log ?? createLogger('history', config.logLevel);
  const closers: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const fn of closers.splice(0).reverse()) {
      await fn().catch((err) => log.error({ err }, 'error while stopping history'));
    }
  };
  const host = config.host ?? DEFAULT_HISTORY_HOST;
  const tokens = config.tokens ?? [];
  checkExposure(host, tokens);
  try {
    const metrics = createHistoryMetrics();
    // The port answers from the start: while Postgres or Kafka is waited for, history is alive, not ready, and says why.
    const waits = new StartWaits(metrics.registry, config.signal);
    const wait = { log, waits, ...(config.infraRetry ? { policy: config.infraRetry } : {}) };
    // Neither connects before it is used: the pool at its first query, the producer at connect().
    const pool = createPool(config.databaseUrl, 5, config.pgTimeouts);
    closers.push(() => pool.end());
    const kafka = createKafka({ brokers: config.brokers, clientId: 'alertbus-history', log });
    const producer = new EventProducer(kafka);
    let producerConnected = false;
    closers.push(async () => {
      if (producerConnected) await producer.disconnect();
    });
    const projector = new Projector({
      pool,
      kafka,
      producer,
      log,
      metrics,
      groupId: config.groupId,
      brokers: config.brokers.join(','),
      retry: config.infraRetry,
      fetchLingerMs: config.fetchLingerMs,
    });
    let projectorStarted = false;

    const app = buildApp({
      pool,
      registry: metrics.registry,
      log,
      producer,
      auth: { tokens, readsOpen: readsOpen(host, tokens.length > 0) },
      silenceMaxDurationMs: config.silenceMaxDurationMs,
      ...(config.kafkaTimeoutMs !== undefined ? { kafkaTimeoutMs: config.kafkaTimeoutMs } : {}),
      ready: waits.readiness(async () => {
        try {
          await pool.query('SELECT 1');
        } catch (err) {
          return `database unreachable: ${(err as Error).message}`;
        }
        return projectorStarted ? projector.problem() : 'projector starting';
      }),
    });
    refuseWhileStarting(app, waits);
    closers.push(() => app.close());
    await app.listen({ port: config.port ?? DEFAULT_HISTORY_PORT, host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : (config.port ?? DEFAULT_HISTORY_PORT);
    const url = `http://${host}:${port}`;

    await untilReachable('Postgres', () => ensureDatabase(config.databaseUrl, config.pgTimeouts), wait);
    const applied = await untilReachable('Postgres', () => migrate(pool, 'history', loadMigrations(MIGRATIONS_DIR)), wait);
    if (applied.length > 0) log.info({ applied }, 'history migrations applied');
    const appliedApi = await migrate(pool, IDEMPOTENCY_MIGRATIONS_OWNER, IDEMPOTENCY_MIGRATIONS);
    if (appliedApi.length > 0) log.info({ applied: appliedApi }, 'history API migrations applied');

    await untilReachable('Kafka', () => ensureTopics(kafka), wait);
    await untilReachable('Kafka', () => producer.connect(), wait);
    producerConnected = true;
    waits.done();

    await projector.start();
    projectorStarted = true;
    // Stopped first on close: the batch in hand is finished and committed before the rest goes away.
    closers.push(() => projector.stop());

    return { url, port, app, pool, metrics, projector, close };
  } catch (err) {
    await close();
    throw err;
  }
}
