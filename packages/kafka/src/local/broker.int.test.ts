/**
 * Starts a broker of its own (apart from the one test/global-setup.ts provides), checks a setting of its
 * server.properties, round-trips one record through a 3-partition topic with an idempotent acks=-1 producer,
 * then stops it and checks the JVM is gone.
 */
import { ConfigResourceTypes, Kafka, logLevel, Partitioners, type RecordMetadata } from 'kafkajs';
import { startLocalBroker, type LocalBroker } from './broker';
import { alive } from '../../../../test/support/proc';

jest.setTimeout(90_000);

describe('startLocalBroker', () => {
  let broker: LocalBroker | undefined;

  afterAll(async () => {
    await broker?.stop();
  });

  it('starts, serves a produce/consume round trip, and stops', async () => {
    broker = await startLocalBroker();
    expect(broker.brokers).toHaveLength(1);
    expect(broker.brokers[0]).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(alive(broker.pid)).toBe(true);

    const kafka = new Kafka({ clientId: 'broker-int-test', brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const topic = `local-broker-${Date.now()}`;

    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(3);
      // An idle single node writes a no-op record to its metadata log every 5 s, not twice a second; one thread of each
      // pool receives, handles and schedules.
      const names = ['metadata.max.idle.interval.ms', 'num.network.threads', 'num.io.threads', 'background.threads'];
      const described = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: names }],
        includeSynonyms: false,
      });
      const values = Object.fromEntries(described.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
      expect(values).toEqual({
        'metadata.max.idle.interval.ms': '5000',
        'num.network.threads': '1',
        'num.io.threads': '1',
        'background.threads': '1',
      });
    } finally {
      await admin.disconnect();
    }

    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    let sent: RecordMetadata[];
    try {
      sent = await producer.send({ topic, acks: -1, messages: [{ key: 'incident-1', value: 'hello' }] });
    } finally {
      await producer.disconnect();
    }
    expect(sent).toHaveLength(1);
    expect(sent[0].errorCode).toBe(0);

    const consumer = kafka.consumer({
      groupId: `${topic}-reader`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = await new Promise<{ partition: number; key: string; value: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no record within 20 s')), 20_000);
        consumer
          .run({
            eachMessage: async ({ partition, message }) => {
              clearTimeout(timer);
              resolve({ partition, key: String(message.key), value: String(message.value) });
            },
          })
          .catch(reject);
      });
      expect(received).toEqual({ partition: sent[0].partition, key: 'incident-1', value: 'hello' });
    } finally {
      await consumer.disconnect();
    }

    const pid = broker.pid;
    await broker.stop();
    expect(alive(pid)).toBe(false);
  });

  it('a port another broker took first is refused, never taken for a broker of its own', async () => {
    // Ports are picked free and bound later, so another broker can take one in between: its answer must not be
    // mistaken for this broker's (a test that stops "its" broker would stop nothing).
    const first = await startLocalBroker();
    try {
      const port = Number(first.brokers[0]!.split(':')[1]);
      await expect(startLocalBroker({ port })).rejects.toThrow(/exited before it was ready|another Kafka/);
      expect(alive(first.pid)).toBe(true);
    } finally {
      await first.stop();
    }
  });
});
