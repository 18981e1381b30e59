/**
 * BrokerHealth's probe against the shared broker, watched on the wire: its Metadata requests name no topics (an
 * empty list), not "every topic" (a null list, KafkaJS's encoding of the empty list describeCluster passes), one a probe.
 */
import { connect, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { BrokerHealth } from './broker-health';

const METADATA = 3;

/** The topic count of every Metadata request written: -1 (null) asks for all topics, 0 for none. */
function watchingSocketFactory(topicCounts: number[]): ISocketFactory {
  return ({ host, port, onConnect }) => {
    const socket: Socket = connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
    (socket as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
      const chunk = args[0];
      // KafkaJS writes each request whole: size, api key, api version, correlation id, client id, then the body.
      if (Buffer.isBuffer(chunk) && chunk.length >= 14 && chunk.readInt16BE(4) === METADATA) {
        const clientIdLength = chunk.readInt16BE(12);
        topicCounts.push(chunk.readInt32BE(14 + Math.max(clientIdLength, 0)));
      }
      return write(...args);
    };
    return socket;
  };
}

test('the probe asks for the metadata of no topic, once a probe, and still learns the cluster id', async () => {
  const topicCounts: number[] = [];
  const health = new BrokerHealth({
    brokers: process.env.KAFKA_BROKERS!.split(','),
    clientId: 'health-wire-test',
    socketFactory: watchingSocketFactory(topicCounts),
  });
  try {
    await health.probe();
    await health.probe();
    expect(health.reachable).toBe(true);
    expect(health.clusterId).toEqual(expect.any(String));
    expect(topicCounts.length).toBeGreaterThanOrEqual(2);
    expect(topicCounts.every((n) => n === 0)).toBe(true);
    // One round trip a probe once connected (KafkaJS's admin would refresh its metadata first, every time).
    const before = topicCounts.length;
    await health.probe();
    expect(topicCounts.length).toBe(before + 1);
  } finally {
    await health.stop();
  }
});
