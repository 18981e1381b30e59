import type { Kafka } from 'kafkajs';
import { TOPIC_SPECS } from '@alertbus/schemas';
import { settled } from './retry';

/** The end offset of every partition of every alertbus topic: equal snapshots mean nothing was written. */
export function endOffsets(kafka: Kafka): Promise<Record<string, string>> {
  return settled(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const out: Record<string, string> = {};
      for (const spec of TOPIC_SPECS) {
        for (const p of await admin.fetchTopicOffsets(spec.name)) out[`${spec.name}/${p.partition}`] = p.high;
      }
      return out;
    } finally {
      await admin.disconnect();
    }
  });
}

/** How many records were written to a topic between two snapshots of endOffsets. */
export function recordsBetween(before: Record<string, string>, after: Record<string, string>, topic: string): number {
  return Object.keys(after)
    .filter((k) => k.startsWith(`${topic}/`))
    .reduce((n, k) => n + Number(BigInt(after[k]!) - BigInt(before[k] ?? '0')), 0);
}
