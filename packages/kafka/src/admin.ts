import type { Kafka } from 'kafkajs';
import { TOPIC_SPECS, type TopicSpec } from '@alertbus/schemas';

/** Creates the topics that do not exist yet, with their partition counts and cleanup policies. */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[] = TOPIC_SPECS): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: -1,
          configEntries: [
            { name: 'cleanup.policy', value: s.cleanupPolicy },
            { name: 'retention.ms', value: String(s.retentionMs) },
            ...(s.cleanupPolicy === 'compact'
              ? [
                  { name: 'min.cleanable.dirty.ratio', value: '0.1' },
                  { name: 'segment.ms', value: '3600000' },
                ]
              : []),
          ],
        })),
      });
    }
    // Wait until every topic's metadata is visible, so the first produce does not hit UNKNOWN_TOPIC.
    await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
    return missing.map((s) => s.name);
  } finally {
    await admin.disconnect();
  }
}

/** True when the cluster answers a metadata request. */
export async function pingKafka(kafka: Kafka): Promise<boolean> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
