import { Kafka, logLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  log?: Logger;
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

export { KAFKA_CLIENTS, type KafkaClientName } from '@alertbus/common';

/** The brokers and client id each client was made with, for a producer of another library on the same cluster. */
const made = new WeakMap<Kafka, Pick<KafkaOptions, 'brokers' | 'clientId' | 'log'>>();

export function kafkaOptionsOf(kafka: Kafka): Pick<KafkaOptions, 'brokers' | 'clientId' | 'log'> {
  const opts = made.get(kafka);
  if (!opts) throw new Error('this Kafka client was not made by createKafka: its brokers are not known');
  return opts;
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
  made.set(kafka, { brokers: opts.brokers, clientId: opts.clientId, log: opts.log });
  return kafka;
}
