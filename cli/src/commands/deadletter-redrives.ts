/**
 * When each dead letter was put back, and by whom. A redrive is recorded where it happened: the record put back on
 * its topic and partition carries the dead letter's id and who redrove it in its headers (HEADERS.redrive,
 * HEADERS.redrivenBy), and the time it was written. Reading it from there also finds redrives of earlier versions.
 */
import type { Kafka } from 'kafkajs';
import { readRanges, wholeTopicRanges, type OffsetRange } from '@alertbus/kafka';
import { HEADERS, type Envelope } from '@alertbus/schemas';

type DeadLetter = Envelope<'DeadLettered'>;

export interface Redrive {
  /** When the record was put back (the record's timestamp). */
  at: string;
  /** Who put it back, as the record says (null when it does not say: a producer other than the CLI). */
  by: string | null;
  topic: string;
  partition: number;
  offset: string;
}

/** A header anyone could have written is shown on one line and bounded, as `--by` itself is. */
export function shownName(value: string): string {
  const line = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/**
 * The partitions the letters came from, each from just after the oldest letter's record (a redrive is written after
 * the record it puts back) to its current end. Topics no longer there have nothing to find.
 */
async function rangesAfter(kafka: Kafka, letters: readonly DeadLetter[]): Promise<OffsetRange[]> {
  const from = new Map<string, bigint>();
  for (const d of letters) {
    const k = `${d.data.origin.topic}\u0000${d.data.origin.partition}`;
    const next = BigInt(d.data.origin.offset) + 1n;
    const seen = from.get(k);
    if (seen === undefined || next < seen) from.set(k, next);
  }
  if (from.size === 0) return [];
  const admin = kafka.admin();
  await admin.connect();
  let existing: Set<string>;
  try {
    existing = new Set(await admin.listTopics());
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const topics = [...new Set(letters.map((d) => d.data.origin.topic))].filter((t) => existing.has(t));
  const out: OffsetRange[] = [];
  for (const r of await wholeTopicRanges(kafka, topics)) {
    const start = from.get(`${r.topic}\u0000${r.partition}`);
    if (start === undefined) continue;
    const low = BigInt(r.from);
    out.push({ ...r, from: String(start > low ? start : low) });
  }
  return out;
}

/** Every redrive of each letter, oldest first, by the letter's id (a letter never redriven has none). */
export async function readRedrives(kafka: Kafka, letters: readonly DeadLetter[]): Promise<Map<string, Redrive[]>> {
  const ids = new Set(letters.map((d) => d.id));
  const found = new Map<string, Redrive[]>();
  await readRanges({
    kafka,
    ranges: await rangesAfter(kafka, letters),
    onBatch: (b) => {
      for (const r of b.records) {
        const id = r.headers[HEADERS.redrive];
        if (id === undefined || !ids.has(id)) continue;
        const by = r.headers[HEADERS.redrivenBy];
        const at = Number(r.timestamp);
        const list = found.get(id) ?? [];
        list.push({
          at: Number.isFinite(at) ? new Date(at).toISOString() : r.timestamp,
          by: by === undefined ? null : shownName(by),
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
        });
        found.set(id, list);
      }
    },
  });
  // A letter's redrives are all in the partition it came from: their offsets order them.
  for (const list of found.values()) list.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  return found;
}

/** "at 2026-03-01T10:00:00.000Z by jane", of the latest redrive, with how many there were when more than one. */
export function describeRedrives(redrives: readonly Redrive[]): string {
  const last = redrives.at(-1);
  if (!last) return '';
  const times = redrives.length > 1 ? ` (${redrives.length} times)` : '';
  return `at ${last.at} by ${last.by ?? 'someone unnamed'}${times}`;
}
