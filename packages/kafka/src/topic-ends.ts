import type { Admin, Kafka } from 'kafkajs';
import { adminWithCluster } from './client';

/** How long the partitions of a topic, and their leaders, are used without asking again (see TopicEnds). */
export const TOPIC_ENDS_METADATA_MS = 1_000;

export interface TopicEnd {
  partition: number;
  /** The next offset after the last stable one (read_committed: an open transaction holds it back). */
  high: string;
}

type ClusterOffsets = {
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  refreshMetadata(): Promise<void>;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number }>;
  fetchTopicsOffset(
    topics: Array<{ topic: string; fromBeginning: boolean; partitions: Array<{ partition: number }> }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
};

const isClusterOffsets = (c: Record<string, unknown> | null): c is Record<string, unknown> & ClusterOffsets =>
  c !== null && ['addTargetTopic', 'refreshMetadataIfNecessary', 'refreshMetadata', 'findTopicPartitionMetadata', 'fetchTopicsOffset'].every((m) => typeof c[m] === 'function');

/**
 * A topic's end offsets in one round trip. KafkaJS's `admin.fetchTopicOffsets` takes three, one after the other:
 * the topic's metadata (an admin refreshes it before every call), the latest offsets, then the earliest. A reader
 * that looks up a topic's end before every batch it decides (the router, for silences) needs only the latest,
 * mostly: here the metadata is kept for `metadataMaxAgeMs` and asked again at once after a failed look-up (a leader
 * that moved), and the earliest offsets are a separate call (`withLow`). Without KafkaJS's cluster (another
 * version), `latest` falls back to `fetchTopicOffsets`.
 */
export class TopicEnds {
  readonly admin: Admin;
  private readonly cluster: ClusterOffsets | null;

  constructor(kafka: Kafka, opts: { metadataMaxAgeMs?: number } = {}) {
    const { admin, cluster } = adminWithCluster(kafka, { metadataMaxAge: opts.metadataMaxAgeMs ?? TOPIC_ENDS_METADATA_MS });
    this.admin = admin;
    this.cluster = isClusterOffsets(cluster) ? cluster : null;
  }

  connect(): Promise<void> {
    return this.admin.connect();
  }

  disconnect(): Promise<void> {
    return this.admin.disconnect();
  }

  /** The end of each partition of `topic` (one ListOffsets request while the metadata is fresh). */
  async latest(topic: string): Promise<TopicEnd[]> {
    const cluster = this.cluster;
    if (!cluster) return (await this.admin.fetchTopicOffsets(topic)).map(({ partition, high }) => ({ partition, high }));
    try {
      await cluster.addTargetTopic(topic);
      await cluster.refreshMetadataIfNecessary();
      const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
      const [found] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions }]);
      return (found?.partitions ?? []).map(({ partition, offset }) => ({ partition, high: offset }));
    } catch (err) {
      // A partition that moved, or a topic recreated: the next look-up starts from fresh metadata.
      await cluster.refreshMetadata().catch(() => undefined);
      throw err;
    }
  }

  /** Latest and earliest offsets of each partition (KafkaJS's three round trips). */
  async withLow(topic: string): Promise<Array<TopicEnd & { low: string }>> {
    return (await this.admin.fetchTopicOffsets(topic)).map(({ partition, high, low }) => ({ partition, high, low }));
  }
}
