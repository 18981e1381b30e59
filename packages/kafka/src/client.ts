import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  log?: Logger;
  /** How long a coordinator found is used without asking again (default COORDINATOR_CACHE_MS; 0 asks every time). */
  coordinatorCacheMs?: number;
}

const levelName: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

function pinoLogCreator(log: Logger): logCreator {
  return () => (entry: LogEntry) => {
    const { message, ...extra } = entry.log;
    const level = levelName[entry.level] ?? 'info';
    // KafkaJS logs reconnects and rebalances at ERROR; they are routine for us, warn is enough.
    (level === 'error' ? log.warn.bind(log) : log[level].bind(log))({ kafka: entry.namespace, ...extra }, message);
  };
}

/**
 * How long a coordinator found by FindCoordinator is used without asking again. KafkaJS asks before every
 * coordinator request: four times per transaction (add partitions, add offsets, the offset commit's group, end),
 * each a round trip on the transaction's path. A coordinator that moved answers NOT_COORDINATOR meanwhile, which
 * KafkaJS retries with back-off for longer than this, so it is found again within a second.
 */
export const COORDINATOR_CACHE_MS = 1_000;

type CoordinatorLookup = (args: { groupId: string; coordinatorType?: number }) => Promise<unknown>;

/**
 * Every cluster the client creates (one per producer, consumer, admin) shares one short-lived cache of the
 * coordinators found. KafkaJS keeps its cluster factory under a private symbol; without it (another version),
 * nothing is cached and every lookup goes to the broker as before.
 */
function cacheCoordinators(kafka: Kafka, ttlMs: number): void {
  const holder = kafka as unknown as Record<symbol, unknown>;
  const factoryKey = Object.getOwnPropertySymbols(holder).find((sym) => sym.description === 'private:Kafka:createCluster');
  const factory = factoryKey ? holder[factoryKey] : undefined;
  if (!factoryKey || typeof factory !== 'function') return;
  const found = new Map<string, { at: number; answer: Promise<unknown> }>();
  holder[factoryKey] = (...args: unknown[]) => {
    const cluster = (factory as (...a: unknown[]) => Record<string, unknown>)(...args);
    const lookup = cluster.findGroupCoordinatorMetadata;
    if (typeof lookup !== 'function') return cluster;
    const ask = (lookup as CoordinatorLookup).bind(cluster);
    cluster.findGroupCoordinatorMetadata = ((params) => {
      const key = `${params.coordinatorType ?? 0}|${params.groupId}`;
      const hit = found.get(key);
      if (hit && Date.now() - hit.at < ttlMs) return hit.answer;
      const answer = ask(params);
      found.set(key, { at: Date.now(), answer });
      // Failures are not kept: the next lookup asks again.
      answer.catch(() => {
        if (found.get(key)?.answer === answer) found.delete(key);
      });
      return answer;
    }) satisfies CoordinatorLookup;
    return cluster;
  };
}

export function createKafka(opts: KafkaOptions): Kafka {
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    logCreator: opts.log ? pinoLogCreator(opts.log.child({ component: 'kafkajs' })) : undefined,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
    connectionTimeout: 3000,
    requestTimeout: 30000,
  });
  if ((opts.coordinatorCacheMs ?? COORDINATOR_CACHE_MS) > 0) cacheCoordinators(kafka, opts.coordinatorCacheMs ?? COORDINATOR_CACHE_MS);
  return kafka;
}
