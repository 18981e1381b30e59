import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { EventProducer, createKafka, ensureTopics } from '@alertbus/kafka';
import { TOPICS, decodeEnvelope, makeEnvelope, newId, validateEnvelope, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { testBrokers } from '../../../../test/support/kafka';

/** A consumer of its own that pushes every delivery result and dead letter the sink writes, decoded, into `seen`. */
export async function collectResults(kafka: Kafka, seen: AnyEnvelope[]): Promise<Consumer> {
  const collector = kafka.consumer({ groupId: `collector-${newId()}`, maxWaitTimeInMs: 100 });
  await collector.connect();
  await collector.subscribe({ topics: [TOPICS.deliveries, TOPICS.deadLetter], fromBeginning: true });
  await collector.run({
    eachMessage: async ({ topic, message }) => {
      const decoded = decodeEnvelope(message.value, topic);
      if (decoded.ok) seen.push(decoded.event);
    },
  });
  return collector;
}

/** The Kafka side of a slack-sink test: the topics, a producer of commands, and the collector of what the sink writes. */
export async function kafkaSide(
  clientId: string,
  seen: AnyEnvelope[],
  log: Logger,
): Promise<{ kafka: Kafka; producer: EventProducer; collector: Consumer }> {
  const kafka = createKafka({ brokers: testBrokers(), clientId, log });
  await ensureTopics(kafka);
  const producer = new EventProducer(kafka);
  await producer.connect();
  return { kafka, producer, collector: await collectResults(kafka, seen) };
}

/** What every slack-sink test's sink is given: the stand-in's API, any free port, the test broker and database. */
export function baseSinkConfig(token: string, apiUrl: string, log: Logger) {
  return {
    token,
    apiUrl,
    port: 0,
    host: '127.0.0.1',
    brokers: testBrokers(),
    databaseUrl: process.env.DATABASE_URL!,
    requestTimeoutMs: 5_000,
    // Nothing in these tests is posted late: a post not found after the timeout was never made.
    postSettleMs: 0,
    log,
  };
}

/** A Slack command as the router writes it for the incident `inc`, checked against its schema. */
export function commandEnvelope<T extends 'PostSlackMessage' | 'UpdateSlackMessage'>(type: T, inc: { alias: string }, data: Envelope<T>['data']): Envelope<T> {
  const at = new Date().toISOString();
  const id = newId();
  const event = makeEnvelope({ id, type, alias: inc.alias, occurredAt: at, recordedAt: at, source: 'router', causationId: id, correlationId: id, data } as never) as Envelope<T>;
  const valid = validateEnvelope(event);
  if (!valid.ok) throw new Error(valid.error);
  return event;
}
