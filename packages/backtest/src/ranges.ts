import type { createKafka, OffsetRange } from '@alertbus/kafka';

type Kafka = ReturnType<typeof createKafka>;

/**
 * Per partition of `topic`: from the first offset whose record timestamp (alertbus sets it to recordedAt)
 * is at or after `fromMs` (or the log start), to the first one at or after `toMs` (or the current end).
 */
export async function topicRanges(kafka: Kafka, topic: string, fromMs?: number, toMs?: number): Promise<OffsetRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const at = async (ms: number | undefined, fallback: 'low' | 'high') => {
      if (ms === undefined) return new Map(ends.map((e) => [e.partition, e[fallback]]));
      return new Map((await admin.fetchTopicOffsetsByTimestamp(topic, ms)).map((o) => [o.partition, o.offset]));
    };
    const starts = await at(fromMs, 'low');
    const stops = await at(toMs, 'high');
    return ends
      .map((e) => ({ topic, partition: e.partition, from: starts.get(e.partition) ?? e.low, to: stops.get(e.partition) ?? e.high }))
      .sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
