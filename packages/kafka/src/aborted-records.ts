/**
 * KafkaJS 2.2.4 leaves records of an aborted transaction in a read_committed fetch when two producers' transactions
 * interleave in one partition (the router's two transactional producers do: the next transaction writes while the
 * previous one commits). Its filter takes at most one aborted transaction off the fetch's list per record, so a record
 * of the second one that is the first record returned after the first one began goes through as committed. The broker's
 * list also comes in the order the aborts were written, not by first offset. `dropAbortedRecords` filters as Kafka's
 * Java consumer does: every aborted transaction begun at or before a record counts, taken in first-offset order, until
 * its producer's abort marker. `installAbortedRecordsFilter()` applies it to every fetch of the process.
 */
import { createRequire } from 'node:module';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

/** The part of a fetched KafkaJS message the filter reads (and `isControlRecord`, which it sets). */
export interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext?: { producerId?: string | number | bigint; inTransaction?: boolean };
}

export interface AbortedTransaction {
  producerId: string;
  firstOffset: string;
}

/** The key of an abort marker: control record version 0, type 0 (a commit marker's type is 1). */
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

/**
 * The records of `messages` (one partition's fetch, in offset order) that belong to a transaction in `aborted`, by
 * Kafka's rule: a transactional record is aborted when its producer has an aborted transaction that began at or before
 * it and whose abort marker has not come yet.
 */
export function abortedRecords(messages: readonly FetchedMessage[], aborted: readonly AbortedTransaction[]): Set<FetchedMessage> {
  const out = new Set<FetchedMessage>();
  if (aborted.length === 0) return out;
  const queue = [...aborted].sort((a, b) => (BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0));
  const open = new Set<string>();
  for (const m of messages) {
    const offset = BigInt(m.offset);
    while (queue.length > 0 && BigInt(queue[0]!.firstOffset) <= offset) open.add(String(queue.shift()!.producerId));
    const producer = String(m.batchContext?.producerId ?? '');
    if (m.isControlRecord) {
      if (m.key && Buffer.from(m.key).equals(ABORT_MARKER_KEY)) open.delete(producer);
    } else if (m.batchContext?.inTransaction && open.has(producer)) {
      out.add(m);
    }
  }
  return out;
}

/**
 * Marks one partition's aborted records as control records (KafkaJS drops those from a batch, yet still counts them in
 * the batch's offsets, so the consumer moves past them as past a marker) and empties its list of aborted transactions,
 * so KafkaJS's own filter changes nothing.
 */
export function dropAbortedRecords(partition: { abortedTransactions?: AbortedTransaction[]; messages?: FetchedMessage[] }): void {
  const aborted = partition.abortedTransactions ?? [];
  if (aborted.length === 0) return;
  for (const m of abortedRecords(partition.messages ?? [], aborted)) m.isControlRecord = true;
  partition.abortedTransactions = [];
}

let installed = false;

/**
 * Puts `dropAbortedRecords` after every Fetch of KafkaJS's Broker for the whole process. Returns false, changing nothing,
 * when the broker class is not where KafkaJS 2.2 keeps it.
 */
export function installAbortedRecordsFilter(): boolean {
  if (installed) return true;
  let Broker: { prototype: Record<string, unknown> };
  try {
    Broker = kafkajsRequire('./src/broker') as { prototype: Record<string, unknown> };
  } catch {
    return false;
  }
  const fetch = Broker?.prototype?.fetch;
  if (typeof fetch !== 'function') return false;
  Broker.prototype.fetch = async function (this: unknown, ...args: unknown[]) {
    const response = (await (fetch as (...a: unknown[]) => Promise<{ responses?: Array<{ partitions?: unknown[] }> }>).apply(this, args)) ?? {};
    for (const topic of response.responses ?? []) for (const p of topic.partitions ?? []) dropAbortedRecords(p as Parameters<typeof dropAbortedRecords>[0]);
    return response;
  };
  installed = true;
  return true;
}
