/** Reading the records an audit or a replay needs, straight from Kafka (through @alertbus/kafka's reader). */
import type { Kafka } from 'kafkajs';
import { partitionOfKey, readRanges, timeWindowRanges, wholeTopicRanges, type ConsumedRecord, type OffsetRange } from '@alertbus/kafka';
import { TOPICS, TOPIC_PREFIX } from '@alertbus/schemas';
import { PROJECTED_TOPICS } from '../topics';
import { byPosition, toAuditRecord, type AuditRecord } from './records';

/**
 * Every topic an incident's story is on (silences belong to no alias; the router's ticks are: a SilenceEndedTick or
 * InhibitionEndedTick keyed by the alias is the input of the incident opened when its silence or inhibition ended),
 * plus the dead letters (the history does not project them; the audit compares only what it does project).
 */
export const AUDIT_TOPICS: readonly string[] = [...PROJECTED_TOPICS.filter((t) => t !== TOPICS.silences), TOPICS.deadLetter];

/** A topic named as configured (`incidents.v1`), by its constant's name (`incidents`), or in full (with the prefix). */
export function resolveTopic(name: string): string {
  const all = Object.values(TOPICS) as string[];
  if (all.includes(name)) return name;
  if (all.includes(`${TOPIC_PREFIX}${name}`)) return `${TOPIC_PREFIX}${name}`;
  const byKey = (TOPICS as Record<string, string>)[name];
  if (byKey) return byKey;
  throw new Error(`unknown topic "${name}"; known: ${all.map((t) => t.slice(TOPIC_PREFIX.length)).join(', ')}`);
}

async function read(
  kafka: Kafka,
  ranges: OffsetRange[],
  keep: (r: AuditRecord) => boolean,
  stopAt?: (r: ConsumedRecord) => boolean,
): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  await readRanges({
    kafka,
    ranges,
    stopAt,
    onBatch: (batch) => {
      for (const r of batch.records) {
        const record = toAuditRecord(r);
        if (keep(record)) out.push(record);
      }
    },
  });
  return out.sort(byPosition);
}

/**
 * Every record keyed by the alias. By default only the partition the producers' partitioner puts the key
 * in is read; `scanAll` reads every partition, for when a producer might have partitioned differently.
 */
export async function readAlias(kafka: Kafka, alias: string, opts: { topics?: readonly string[]; scanAll?: boolean } = {}): Promise<AuditRecord[]> {
  const topics = opts.topics ?? AUDIT_TOPICS;
  let ranges = await wholeTopicRanges(kafka, topics);
  if (!opts.scanAll) {
    const wanted = new Map<string, number>();
    for (const topic of topics) wanted.set(topic, await partitionOfKey(kafka, topic, alias));
    ranges = ranges.filter((r) => wanted.get(r.topic) === r.partition);
  }
  return read(kafka, ranges, (r) => r.key === alias);
}

/**
 * Every record of the topic written in [fromMs, toMs) by record time (toMs absent: up to now). Each partition is
 * read from the first offset at or after fromMs until the first record at or after toMs, so record times are
 * taken to grow along a partition (they do: producers write events in time order).
 */
export async function readWindow(kafka: Kafka, topic: string, fromMs: number, toMs?: number): Promise<AuditRecord[]> {
  const at = (r: ConsumedRecord) => Number(r.timestamp);
  return read(
    kafka,
    await timeWindowRanges(kafka, topic, fromMs),
    (r) => Date.parse(r.timestamp) >= fromMs,
    toMs === undefined ? undefined : (r) => at(r) >= toMs,
  );
}
