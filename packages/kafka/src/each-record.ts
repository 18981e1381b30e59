import type { Logger } from 'pino';
import { decodeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import type { LoopBatch, SettledOutcome } from './consume-loop';
import { deadLetterEvent } from './dead-letter';
import type { EventProducer } from './producer';
import type { ConsumedRecord } from './records';

export interface EachRecordOptions {
  /** Named as the consumer of the dead letters. */
  groupId: string;
  log: Logger;
  /** Writes the dead letters of records that fail their schema. */
  producer: Pick<EventProducer, 'send'>;
  /**
   * Handles one valid event. Throwing retries it (and what follows it in the partition) later, through the
   * loop's infrastructure policy; returning `{ retryInMs }` comes back to it then, without an error.
   */
  handle: (event: AnyEnvelope, record: ConsumedRecord) => Promise<void | { retryInMs: number; reason: string }>;
  /** Called for each record dead-lettered, after the dead letter was written. */
  onDeadLetter?: (record: ConsumedRecord, reason: string) => void;
  /**
   * What a record must stay in order with (default: its key). Records that share none of these, directly or through
   * other records of the batch, are independent: with `concurrency` > 1 they are handled at the same time.
   */
  orderKeys?: (event: AnyEnvelope, record: ConsumedRecord) => string[];
  /** Independent chains of a batch handled at the same time (default 1: one record at a time, in order). */
  concurrency?: number;
}

type Later = { retryInMs: number; reason: string };
type Result = { done: true } | { done: false; later: Later } | { done: false; error: unknown };

/**
 * A batch handler for a ConsumeLoop that takes one record at a time, in order: a record that fails its
 * schema is dead-lettered (it is itself bad); every other record is handled, and the partition does not
 * move past it until its handler succeeded or dead-lettered it itself. With `concurrency` > 1, the batch is split
 * into chains of records that share an order key (see `orderKeys`), each handled in order, several chains at a time;
 * the partition moves past the records handled up to the first one that was not.
 */
export function eachRecord(opts: EachRecordOptions): (batch: LoopBatch) => Promise<SettledOutcome> {
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  /** One record; false when it did not finish (its outcome is returned or thrown by the batch). */
  const one = async (batch: LoopBatch, record: ConsumedRecord, decoded = decodeEnvelope(record.value, record.topic)): Promise<Result> => {
    if (batch.isStale()) return { done: false, later: { retryInMs: 0, reason: 'stale batch' } };
    if (!decoded.ok) {
      const now = new Date();
      await opts.producer.send([deadLetterEvent(record, opts.groupId, [{ at: now.toISOString(), error: decoded.error }], now)]);
      opts.log.error({ topic: record.topic, partition: record.partition, offset: record.offset, reason: decoded.error }, 'record dead-lettered');
      opts.onDeadLetter?.(record, decoded.error);
      return { done: true };
    }
    const later = await opts.handle(decoded.event, record);
    return later ? { done: false, later } : { done: true };
  };
  if (concurrency === 1) {
    return async (batch) => {
      for (const record of batch.records) {
        const result = await one(batch, record);
        if (!result.done) return 'later' in result ? result.later : undefined;
        batch.resolve(record.offset);
      }
    };
  }
  return async (batch) => {
    const results = new Map<ConsumedRecord, Result>();
    let stop = false;
    const decoded = new Map(batch.records.map((record) => [record, decodeEnvelope(record.value, record.topic)] as const));
    const chains = chainsOf(batch.records, (record) => {
      const d = decoded.get(record)!;
      return d.ok ? (opts.orderKeys?.(d.event, record) ?? [record.key ?? '']) : [record.key ?? ''];
    });
    let next = 0;
    const worker = async () => {
      while (!stop && next < chains.length) {
        for (const record of chains[next++]!) {
          if (stop) break;
          const result = await one(batch, record, decoded.get(record)).catch((error: unknown): Result => ({ done: false, error }));
          results.set(record, result);
          // What comes after a record that did not finish waits for it; so does every chain not started yet.
          if (!result.done) {
            stop = true;
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chains.length) }, worker));
    const failed = batch.records.map((r) => results.get(r)).find((r): r is Exclude<Result, { done: true }> => r !== undefined && !r.done);
    for (const record of batch.records) {
      if (results.get(record)?.done !== true) break;
      batch.resolve(record.offset);
    }
    if (failed && 'error' in failed) throw failed.error;
    return failed?.later;
  };
}

/**
 * The batch's records split into chains, each in offset order, of records linked by a shared order key (directly or
 * through others); chains in the order of their first record.
 */
function chainsOf(records: readonly ConsumedRecord[], keysOf: (record: ConsumedRecord) => string[]): ConsumedRecord[][] {
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let root = k;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(k, root);
    return root;
  };
  const keys = records.map((record) => {
    const ks = keysOf(record).map((k) => `k:${k}`);
    for (const k of ks) if (!parent.has(k)) parent.set(k, k);
    for (const k of ks.slice(1)) parent.set(find(k), find(ks[0]!));
    return ks;
  });
  const chains = new Map<string, ConsumedRecord[]>();
  records.forEach((record, i) => {
    const root = keys[i]!.length > 0 ? find(keys[i]![0]!) : `record:${i}`;
    const chain = chains.get(root);
    if (chain) chain.push(record);
    else chains.set(root, [record]);
  });
  return [...chains.values()];
}
