import type { Consumer, Kafka } from 'kafkajs';
import { TOPICS, decodeEnvelope, newId, type AnyEnvelope } from '@alertbus/schemas';

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
