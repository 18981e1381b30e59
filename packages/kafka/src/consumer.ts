import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { decodeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import type { AttemptError } from '@alertbus/common';
import { deadLetterEvent } from './dead-letter';
import type { EventProducer } from './producer';
import { toConsumedRecord, type ConsumedRecord } from './records';

export interface EventConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  log: Logger;
  /** Producer for dead letters (and nothing else is required of it). */
  producer: EventProducer;
  handle: (event: AnyEnvelope, record: ConsumedRecord) => Promise<void>;
  /** Attempts of `handle` before the record is dead-lettered. */
  maxAttempts?: number;
  retryBackoffMs?: number;
  fromBeginning?: boolean;
  sessionTimeout?: number;
  /** Called for each record dead-lettered (invalid or failed), after the dead letter was written. */
  onDeadLetter?: (record: ConsumedRecord, reason: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * At-least-once consumer of alertbus events. Records that fail their schema, and records whose handler
 * keeps failing, go to the dead-letter topic with their origin and errors; the consumer moves on.
 * Offsets are committed after the records they cover were handled or dead-lettered.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private running = false;
  private crashed: Error | null = null;

  constructor(private readonly opts: EventConsumerOptions) {
    this.consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      sessionTimeout: opts.sessionTimeout ?? 15_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.crashed = e.payload.error;
      opts.log.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed');
    });
  }

  get isRunning(): boolean {
    return this.running;
  }

  get lastCrash(): Error | null {
    return this.crashed;
  }

  async start(): Promise<void> {
    const { opts } = this;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
    const maxAttempts = opts.maxAttempts ?? 5;
    const backoff = opts.retryBackoffMs ?? 200;
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break;
          const record = toConsumedRecord(batch.topic, batch.partition, message);
          const decoded = decodeEnvelope(record.value, record.topic);
          if (!decoded.ok) {
            await this.deadLetter(record, [{ at: new Date().toISOString(), error: decoded.error }]);
          } else {
            const attempts: AttemptError[] = [];
            for (let attempt = 1; attempt <= maxAttempts; attempt++) {
              // A handler may wait out a rate limit for longer than the session timeout: keep the membership alive.
              const keepAlive = setInterval(() => void heartbeat().catch(() => undefined), 3_000);
              try {
                await opts.handle(decoded.event, record);
                attempts.length = 0;
                break;
              } catch (err) {
                attempts.push({ at: new Date().toISOString(), error: (err as Error).message });
                opts.log.warn({ err, attempt, topic: record.topic, offset: record.offset }, 'handler failed');
                if (attempt < maxAttempts) await sleep(backoff * 2 ** (attempt - 1));
                await heartbeat();
              } finally {
                clearInterval(keepAlive);
              }
            }
            if (attempts.length > 0) await this.deadLetter(record, attempts);
          }
          resolveOffset(message.offset);
          await this.consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: (BigInt(message.offset) + 1n).toString() },
          ]);
          await heartbeat();
        }
      },
    });
    this.running = true;
  }

  private async deadLetter(record: ConsumedRecord, attempts: AttemptError[]): Promise<void> {
    const event = deadLetterEvent(record, this.opts.groupId, attempts, new Date());
    await this.opts.producer.send([event]);
    this.opts.log.error(
      { topic: record.topic, partition: record.partition, offset: record.offset, reason: attempts.at(-1)?.error },
      'record dead-lettered',
    );
    this.opts.onDeadLetter?.(record, attempts.at(-1)?.error ?? 'unknown');
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.consumer.disconnect();
  }
}
