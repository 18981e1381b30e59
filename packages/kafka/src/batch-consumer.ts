import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { decodeEnvelope, type ValidationResult } from '@alertbus/schemas';
import { toConsumedRecord, type ConsumedRecord } from './records';

/** A consumed record with its value already decoded and validated against the schemas (for its topic). */
export interface DecodedRecord extends ConsumedRecord {
  decoded: ValidationResult;
}

/** One fetch's records of one partition, in offset order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  records: DecodedRecord[];
  /** The partition's end (next offset to be written) when fetched; for lag. */
  highWatermark: string;
  heartbeat(): Promise<void>;
  /** True once a seek for this partition is pending: whatever the handler does with the batch is moot. */
  isStale(): boolean;
}

/** Where a partition resumes when it is assigned: an offset, or the earliest offset still in the log. */
export type ResumePosition = string | 'earliest';

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  log: Logger;
  /**
   * Handles a whole batch. Throwing retries the same batch (with backoff, indefinitely, while running):
   * a consumer that owns its offsets must not skip. Returning commits the batch's end to Kafka.
   */
  handleBatch: (batch: RecordBatch) => Promise<void>;
  /**
   * The handler's own record of where each partition stands, asked on every assignment; the consumer seeks
   * there before handing out records. Without it, Kafka's committed offsets decide.
   */
  resumeFrom?: (topic: string, partition: number) => Promise<ResumePosition>;
  fromBeginning?: boolean;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  maxWaitTimeInMs?: number;
  /** First retry delay after a failed batch; doubles up to maxRetryBackoffMs. */
  retryBackoffMs?: number;
  maxRetryBackoffMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function retrying<T>(fn: () => Promise<T>, attempts = 8, firstDelayMs = 100): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts) throw err;
      await sleep(firstDelayMs * 2 ** (attempt - 1));
    }
  }
}

/**
 * A consumer for handlers that keep their own offsets (e.g. in the same database transaction as their
 * writes): whole batches, autoCommit off, positions restored from the handler on assignment, and Kafka
 * offsets committed after the handler returned, as a hint for tools and the next start only.
 */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private running = false;
  private crashed: Error | null = null;
  private failing: Error | null = null;
  /** Settles when the seeks of the latest assignment are registered; batches wait for it. */
  private positioned: Promise<void> = Promise.resolve();

  constructor(private readonly opts: BatchConsumerOptions) {
    this.consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeout ?? 15_000,
      heartbeatInterval: opts.heartbeatInterval ?? 1_000,
      maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 100,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.crashed = e.payload.error;
      if (!e.payload.restart) this.running = false;
      opts.log.error({ err: e.payload.error, restart: e.payload.restart }, 'batch consumer crashed');
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.crashed = null;
      if (!opts.resumeFrom) return;
      const positioned = this.seekAssigned(e.payload.memberAssignment);
      positioned.catch(() => undefined); // awaited (and rethrown) by the next batch, never unhandled
      this.positioned = positioned;
    });
  }

  /** Started, not stopped, and not crashed for good. */
  get isRunning(): boolean {
    return this.running;
  }

  /** The error of the last crash (cleared on the next group join), or null. */
  get lastCrash(): Error | null {
    return this.crashed;
  }

  /** The handler's error while a batch keeps failing, or null once batches go through. */
  get lastHandlerError(): Error | null {
    return this.failing;
  }

  async start(): Promise<void> {
    const { opts } = this;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        await this.positioned;
        if (isStale() || batch.messages.length === 0) return;
        const recordBatch: RecordBatch = {
          topic: batch.topic,
          partition: batch.partition,
          highWatermark: batch.highWatermark,
          records: batch.messages.map((m) => {
            const record = toConsumedRecord(batch.topic, batch.partition, m);
            return { ...record, decoded: decodeEnvelope(record.value, batch.topic) };
          }),
          heartbeat,
          isStale,
        };
        const handled = await this.handleWithRetries(recordBatch, () => isRunning() && !isStale());
        if (!handled || isStale()) return;
        const lastMessage = batch.messages[batch.messages.length - 1]!;
        resolveOffset(lastMessage.offset);
        try {
          // lastOffset() also covers a trailing transaction marker, so the hint does not stop short of it.
          const next = (BigInt(batch.lastOffset()) + 1n).toString();
          await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        } catch (err) {
          opts.log.warn({ err, topic: batch.topic, partition: batch.partition }, 'offset commit to Kafka failed (a hint only)');
        }
        await heartbeat();
      },
    });
    this.running = true;
  }

  private async handleWithRetries(batch: RecordBatch, mayContinue: () => boolean): Promise<boolean> {
    const first = this.opts.retryBackoffMs ?? 200;
    const max = this.opts.maxRetryBackoffMs ?? 5_000;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.handleBatch(batch);
        this.failing = null;
        return true;
      } catch (err) {
        this.failing = err as Error;
        this.opts.log.error(
          { err, attempt, topic: batch.topic, partition: batch.partition, firstOffset: batch.records[0]?.offset },
          'batch handler failed; retrying the same batch',
        );
      }
      const until = Date.now() + Math.min(max, first * 2 ** Math.min(attempt - 1, 16));
      while (Date.now() < until) {
        if (!mayContinue()) return false;
        await sleep(Math.min(250, until - Date.now()));
        await batch.heartbeat().catch(() => undefined);
      }
      if (!mayContinue()) return false;
    }
  }

  private async seekAssigned(assignment: Record<string, number[]>): Promise<void> {
    const resumeFrom = this.opts.resumeFrom!;
    const admin = this.opts.kafka.admin();
    let adminConnected = false;
    try {
      for (const [topic, partitions] of Object.entries(assignment)) {
        let lows: Map<number, string> | null = null;
        for (const partition of partitions) {
          let offset = await resumeFrom(topic, partition);
          if (offset === 'earliest') {
            if (!lows) {
              if (!adminConnected) await admin.connect();
              adminConnected = true;
              // Leaders of just-created topics can take a moment to answer ListOffsets.
              const offsets = await retrying(() => admin.fetchTopicOffsets(topic));
              lows = new Map(offsets.map((o) => [o.partition, o.low]));
            }
            offset = lows.get(partition) ?? '0';
          }
          this.consumer.seek({ topic, partition, offset });
        }
      }
    } catch (err) {
      // Without the positions the handler would be handed records from Kafka's committed offsets; a crash
      // makes kafkajs rejoin and ask again instead.
      this.opts.log.error({ err }, 'could not restore partition positions');
      throw err;
    } finally {
      if (adminConnected) await admin.disconnect().catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }
}
