import { Kafka, logLevel, type Admin, type ISocketFactory, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';
import { installAbortedRecordsFilter } from './aborted-records';
import { installFetchDecoder } from './fetch-decoding';
import { quietRequestQueues } from './request-queue';
import { installSentOffsetsGuard } from './sent-offsets';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  log?: Logger;
  /** How long a coordinator found is used without asking again (default COORDINATOR_CACHE_MS; 0 asks every time). */
  coordinatorCacheMs?: number;
  /** The client's connections (default KafkaJS's): tests watch the requests and answers on the wire with it. */
  socketFactory?: ISocketFactory;
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

/** KafkaJS's cluster factory, which every producer, consumer and admin goes through (a private symbol of its Kafka). */
const factoryKeyOf = (holder: Record<symbol, unknown>) => Object.getOwnPropertySymbols(holder).find((sym) => sym.description === 'private:Kafka:createCluster');

/** While set (see `adminWithCluster`): options for the next cluster created, and who receives it. */
const NEXT_CLUSTER = Symbol('alertbus:next-cluster');
type NextCluster = { options: Record<string, unknown>; receive: (cluster: Record<string, unknown>) => void };

/**
 * Every cluster the client creates (one per producer, consumer, admin) goes through this: a short-lived cache of the
 * coordinators found, shared by all (when `coordinatorTtlMs` > 0), and the one-off options of `adminWithCluster`.
 * Without KafkaJS's factory (another version), nothing is cached and every lookup goes to the broker as before.
 */
function patchClusters(kafka: Kafka, coordinatorTtlMs: number): void {
  const holder = kafka as unknown as Record<symbol, unknown>;
  const factoryKey = factoryKeyOf(holder);
  const factory = factoryKey ? holder[factoryKey] : undefined;
  if (!factoryKey || typeof factory !== 'function') return;
  const found = new Map<string, { at: number; answer: Promise<unknown> }>();
  holder[factoryKey] = (...args: unknown[]) => {
    const next = holder[NEXT_CLUSTER] as NextCluster | undefined;
    if (next && typeof args[0] === 'object') args[0] = { ...(args[0] as object), ...next.options };
    const cluster = (factory as (...a: unknown[]) => Record<string, unknown>)(...args);
    next?.receive(cluster);
    const lookup = cluster.findGroupCoordinatorMetadata;
    if (coordinatorTtlMs <= 0 || typeof lookup !== 'function') return cluster;
    const ask = (lookup as CoordinatorLookup).bind(cluster);
    cluster.findGroupCoordinatorMetadata = ((params) => {
      const key = `${params.coordinatorType ?? 0}|${params.groupId}`;
      const hit = found.get(key);
      if (hit && Date.now() - hit.at < coordinatorTtlMs) return hit.answer;
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

/** Lets `adminWithCluster` hand out the clusters of a client built with `new Kafka` rather than createKafka (nothing cached). */
export function exposeClusters(kafka: Kafka): void {
  patchClusters(kafka, 0);
}

/**
 * An admin whose cluster is created with `options` (KafkaJS's admin() takes none: its metadata, for one, is refreshed
 * before every call), and that cluster, or null when the client is not one of createKafka's.
 */
export function adminWithCluster(kafka: Kafka, options: { metadataMaxAge?: number }): { admin: Admin; cluster: Record<string, unknown> | null } {
  const holder = kafka as unknown as Record<symbol, unknown>;
  let cluster: Record<string, unknown> | null = null;
  holder[NEXT_CLUSTER] = { options, receive: (c) => (cluster = c) } satisfies NextCluster;
  try {
    return { admin: kafka.admin(), cluster };
  } finally {
    delete holder[NEXT_CLUSTER];
  }
}

export function createKafka(opts: KafkaOptions): Kafka {
  // Without it, every connection's request queue wakes the process every millisecond, idle or not.
  quietRequestQueues();
  // Read committed, KafkaJS passes on records of an aborted transaction that interleaves with another producer's.
  installAbortedRecordsFilter();
  // Fetched records decoded in one pass (KafkaJS's own decoder where this one does not apply).
  installFetchDecoder();
  // Offsets sent in a transaction are not taken as committed by the client's consumers before the transaction commits.
  installSentOffsetsGuard();
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: opts.brokers,
    logLevel: logLevel.WARN,
    logCreator: opts.log ? pinoLogCreator(opts.log.child({ component: 'kafkajs' })) : undefined,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5000 },
    connectionTimeout: 3000,
    requestTimeout: 30000,
    ...(opts.socketFactory ? { socketFactory: opts.socketFactory } : {}),
  });
  patchClusters(kafka, opts.coordinatorCacheMs ?? COORDINATOR_CACHE_MS);
  return kafka;
}
