/**
 * The Kafka side of history: reads every topic it projects and applies each batch in one Postgres
 * transaction together with the offsets it covers, so a crash anywhere leaves the tables and offsets agreeing.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { decodeEnvelope, GROUPS, TOPICS, type ValidationResult } from '@alertbus/schemas';
import type { InfraRetryPolicy } from '@alertbus/common';
import {
  ConsumeLoop,
  consumeLoopMetrics,
  deadLetterEvent,
  type ConsumedRecord,
  type EventProducer,
  type LoopBatch,
} from '@alertbus/kafka';
import { applyRecordBatch, type BatchResult, type Rejected } from './batch-apply';
import type { HistoryMetrics } from './metrics';
import { readNextOffset } from './offset-store';

/**
 * Every topic history reads: inputs, decisions, commands, delivery results, silences. The order is only
 * the order of subscription; the projection does not depend on which topic is read first.
 */
export const PROJECTED_TOPICS: readonly string[] = [
  TOPICS.alertsReceived,
  TOPICS.slackReceived,
  TOPICS.incidents,
  TOPICS.slackCommands,
  TOPICS.pagerCommands,
  TOPICS.deliveries,
  TOPICS.silences,
];

export interface ProjectorOptions {
  pool: Pool;
  kafka: Kafka;
  /** Used for dead letters only. */
  producer: EventProducer;
  log: Logger;
  metrics: HistoryMetrics;
  /** Consumer group, also the `consumer` of the stored offsets. */
  groupId?: string;
  topics?: readonly string[];
  /** Back-off while Postgres or Kafka are unreachable; the projector never skips, it waits. */
  retry?: InfraRetryPolicy;
}

/** A consumed record with its value decoded and validated against the schemas (for its topic). */
export type DecodedRecord = ConsumedRecord & { decoded: ValidationResult };

export class Projector {
  readonly groupId: string;
  private readonly loop: ConsumeLoop;

  constructor(private readonly opts: ProjectorOptions) {
    this.groupId = opts.groupId ?? GROUPS.history;
    this.loop = new ConsumeLoop({
      kafka: opts.kafka,
      groupId: this.groupId,
      topics: [...(opts.topics ?? PROJECTED_TOPICS)],
      log: opts.log,
      // The offsets that count are stored with the rows; Kafka's committed ones are a hint for tools.
      commit: 'hint',
      retry: opts.retry,
      metrics: consumeLoopMetrics(opts.metrics.registry),
      handleBatch: (batch) => this.handleBatch(batch),
      positionOf: async (topic, partition) => (await readNextOffset(opts.pool, this.groupId, topic, partition)) ?? 'earliest',
    });
  }

  /** Null when consuming, else why not. */
  problem(): string | null {
    const p = this.loop.problem();
    return p === null ? null : `projector: ${p}`;
  }

  async start(): Promise<void> {
    await this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /**
   * One transaction: lock the partition's stored offset, apply what lies beyond it, dead-letter what cannot
   * be applied (before the commit, so no record is ever covered without being applied or dead-lettered),
   * store the new offset.
   */
  private async handleBatch(batch: LoopBatch): Promise<void> {
    const records: DecodedRecord[] = batch.records.map((r) => ({ ...r, decoded: decodeEnvelope(r.value, r.topic) }));
    const result = await applyRecordBatch(
      { pool: this.opts.pool, consumer: this.groupId, onRejected: (rejected) => this.deadLetter(rejected) },
      batch.topic,
      batch.partition,
      records,
      (err) =>
        this.opts.log.warn(
          { err, topic: batch.topic, partition: batch.partition },
          'Postgres refused a record of the batch; applying record by record to set it aside',
        ),
    );
    this.record(batch, result);
  }

  private async deadLetter(rejected: Array<Rejected<DecodedRecord>>): Promise<void> {
    if (rejected.length === 0) return;
    const now = new Date();
    await this.opts.producer.send(
      rejected.map(({ record, error }) => deadLetterEvent(record, this.groupId, [{ at: now.toISOString(), error }], now)),
    );
    for (const { record, error } of rejected) {
      this.opts.log.error(
        { topic: record.topic, partition: record.partition, offset: record.offset, reason: error },
        'record dead-lettered',
      );
    }
  }

  /** Metrics move only once the transaction committed, so a retried batch is not counted twice. */
  private record(batch: LoopBatch, r: BatchResult<DecodedRecord>): void {
    const { metrics } = this.opts;
    for (const [type, n] of r.applied) metrics.applied.inc({ type }, n);
    if (r.alreadyApplied > 0) metrics.skipped.inc({ reason: 'offset' }, r.alreadyApplied);
    if (r.duplicates > 0) metrics.skipped.inc({ reason: 'duplicate-id' }, r.duplicates);
    for (const { reason } of r.rejected) metrics.deadLettered.inc({ reason });
    if (r.nextOffset !== null) {
      const lag = BigInt(batch.highWatermark) - BigInt(r.nextOffset);
      metrics.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Number(lag > 0n ? lag : 0n));
    }
  }
}
