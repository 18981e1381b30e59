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
}

/**
 * A batch handler for a ConsumeLoop that takes one record at a time, in order: a record that fails its
 * schema is dead-lettered (it is itself bad); every other record is handled, and the partition does not
 * move past it until its handler succeeded or dead-lettered it itself.
 */
export function eachRecord(opts: EachRecordOptions): (batch: LoopBatch) => Promise<SettledOutcome> {
  return async (batch) => {
    for (const record of batch.records) {
      if (batch.isStale()) return { retryInMs: 0, reason: 'stale batch' };
      const decoded = decodeEnvelope(record.value, record.topic);
      if (!decoded.ok) {
        const now = new Date();
        await opts.producer.send([deadLetterEvent(record, opts.groupId, [{ at: now.toISOString(), error: decoded.error }], now)]);
        opts.log.error({ topic: record.topic, partition: record.partition, offset: record.offset, reason: decoded.error }, 'record dead-lettered');
        opts.onDeadLetter?.(record, decoded.error);
      } else {
        const later = await opts.handle(decoded.event, record);
        if (later) return later;
      }
      batch.resolve(record.offset);
    }
  };
}
