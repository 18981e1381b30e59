import { Kafka, logLevel, type Admin } from 'kafkajs';
import { TOPIC_SPECS, type TopicSpec } from '@alertbus/schemas';

/** Creates the topics that do not exist yet, with their partition counts and cleanup policies. */
export async function ensureTopics(kafka: Kafka, specs: readonly TopicSpec[] = TOPIC_SPECS): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length > 0) {
      // Another process may create the same topics at the same moment; that is fine (false, or TOPIC_ALREADY_EXISTS).
      // Not waitForLeaders: KafkaJS would poll the metadata through this admin, whose logger writes each "does not host
      // this topic-partition" answer at ERROR (the test suite saw one in CI). waitUntilServed waits for the leaders,
      // quietly, below.
      await admin
        .createTopics({
        waitForLeaders: false,
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
        })
        .catch((err: { type?: string }) => {
          if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
        });
    }
    await waitUntilServed(kafka, specs);
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A logger that drops everything, taken from a client that never connects. */
const QUIET_LOGGER = new Kafka({ clientId: 'alertbus-quiet', brokers: ['127.0.0.1:0'], logLevel: logLevel.NOTHING }).logger();

/**
 * An admin of `kafka` (same brokers, connections, options) that logs nothing, for requests expected to fail for a while;
 * a plain admin with KafkaJS versions whose client keeps its logger elsewhere.
 */
function quietAdmin(kafka: Kafka): Admin {
  const holder = kafka as unknown as Record<symbol, unknown>;
  const key = Object.getOwnPropertySymbols(holder).find((sym) => sym.description === 'private:Kafka:logger');
  if (key === undefined) return kafka.admin();
  const logger = holder[key];
  holder[key] = QUIET_LOGGER;
  try {
    return kafka.admin();
  } finally {
    holder[key] = logger;
  }
}

/**
 * Right after creation a topic's partitions can briefly be unknown to the broker that answers ("not the leader for that
 * topic-partition"): wait until every partition has a leader and answers an offsets request. Those answers are expected,
 * so the admin asking logs nothing (KafkaJS logs each at ERROR); if the wait fails, the error thrown says why.
 */
async function waitUntilServed(kafka: Kafka, specs: readonly TopicSpec[], timeoutMs = 30_000): Promise<void> {
  const admin = quietAdmin(kafka);
  await admin.connect();
  try {
    await pollUntilServed(admin, specs, timeoutMs);
  } finally {
    await admin.disconnect();
  }
}

async function pollUntilServed(admin: Admin, specs: readonly TopicSpec[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
      const ready = specs.every((spec) => {
        const t = topics.find((x) => x.name === spec.name);
        return t !== undefined && t.partitions.length >= spec.partitions && t.partitions.every((p) => p.leader >= 0);
      });
      if (ready) {
        for (const spec of specs) await admin.fetchTopicOffsets(spec.name);
        return;
      }
    } catch (err) {
      lastError = err;
    }
    await sleep(200);
  }
  throw new Error(`topics not served within ${timeoutMs} ms: ${(lastError as Error)?.message ?? 'partitions without leader'}`);
}
