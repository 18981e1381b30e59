/**
 * What every ingest integration test file sets up the same way: a Kafka client on the test run's broker
 * (topics settled first), one connected producer, and apps built around it, all closed after the file.
 */
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import { createLogger, createRegistry, type Logger } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { testKafka } from '../../../../test/support/kafka';
import { buildApp, type IngestAppDeps } from '../app';
import { ingestProducer } from '../producer';
import { settled } from './retry';

/** What a test may set on an app; the rest is the file's producer, a fresh registry and (unless given) a silent logger. */
export type AppOptions = Partial<Omit<IngestAppDeps, 'config' | 'registry' | 'log'>> & {
  config?: Partial<IngestAppDeps['config']>;
  /** A logger of the test's own, to read what the app logged. */
  log?: Logger;
};

export interface IngestRig {
  readonly kafka: Kafka;
  /** The file's producer, connected before the first test. */
  readonly producer: EventProducer;
  readonly log: Logger;
  /** A ready app (not listening), closed after the file. */
  app(options?: AppOptions): Promise<FastifyInstance>;
  /** A producer of its own, not connected, disconnected after the file (a test that drives its connection). */
  ownProducer(kafka?: Kafka): EventProducer;
}

/** Registers the file's beforeAll/afterAll; call it once at the top of a test file. */
export function ingestRig(clientId: string): IngestRig {
  const log = createLogger(clientId, 'silent');
  let kafka: Kafka | undefined;
  let producer: EventProducer | undefined;
  const apps: FastifyInstance[] = [];
  const own: EventProducer[] = [];
  const set = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is set up in beforeAll; use it inside a test`);
    return value;
  };

  beforeAll(async () => {
    kafka = await settled(() => testKafka(clientId));
    producer = ingestProducer(kafka);
    await producer.connect();
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await producer?.disconnect();
    await Promise.all(own.map((p) => p.disconnect().catch(() => undefined)));
  });

  return {
    get kafka() {
      return set(kafka, 'kafka');
    },
    get producer() {
      return set(producer, 'the producer');
    },
    log,
    async app({ config, ...deps }: AppOptions = {}) {
      const app = buildApp({
        producer: set(producer, 'the producer'),
        registry: createRegistry('ingest'),
        log,
        ...deps,
        config: { bodyLimit: 1024 * 1024, kafkaTimeoutMs: 10_000, ...config },
      });
      apps.push(app);
      await app.ready();
      return app;
    },
    ownProducer(k = set(kafka, 'kafka')) {
      const p = ingestProducer(k);
      own.push(p);
      return p;
    },
  };
}
