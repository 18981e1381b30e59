/**
 * The Kafka side of history: reads incidents.v1 and deliveries.v1 and applies each batch in one Postgres
 * transaction together with the offsets it covers, so a crash anywhere leaves the tables and offsets agreeing.
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Pool, PoolClient } from 'pg';
import { GROUPS, TOPICS } from '@alertbus/schemas';
import { inTransaction } from '@alertbus/common';
import { BatchConsumer, deadLetterEvent, type DecodedRecord, type EventProducer, type RecordBatch } from '@alertbus/kafka';
import type { HistoryMetrics } from './metrics';
import { readNextOffset, storeNextOffset } from './offset-store';
import { applyProjection } from './projection/apply';
import { planBatch } from './projection/batch-plan';
import { project } from './projection/project';

export interface ProjectorOptions {
  pool: Pool;
  kafka: Kafka;
  /** Used for dead letters only. */
  producer: EventProducer;
  log: Logger;
  metrics: HistoryMetrics;
  /** Consumer group, also the `consumer` of the stored offsets. */
  groupId?: string;
  topics?: string[];
}

interface Rejected {
  record: DecodedRecord;
  error: string;
  reason: 'invalid' | 'unprojectable';
}

interface BatchResult {
  applied: Map<string, number>;
  duplicates: number;
  alreadyApplied: number;
  rejected: Rejected[];
  nextOffset: string | null;
}

/** Postgres refused the values (SQLSTATE class 22 data exception or 23 constraint): retrying cannot help. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

export class Projector {
  readonly groupId: string;
  private readonly consumer: BatchConsumer;

  constructor(private readonly opts: ProjectorOptions) {
    this.groupId = opts.groupId ?? GROUPS.history;
    this.consumer = new BatchConsumer({
      kafka: opts.kafka,
      groupId: this.groupId,
      topics: opts.topics ?? [TOPICS.incidents, TOPICS.deliveries],
      log: opts.log,
      handleBatch: (batch) => this.handleBatch(batch),
      resumeFrom: async (topic, partition) =>
        (await readNextOffset(opts.pool, this.groupId, topic, partition)) ?? 'earliest',
    });
  }

  /** Null when consuming, else why not. */
  problem(): string | null {
    if (!this.consumer.isRunning) return 'projector is not running';
    if (this.consumer.lastCrash) return `projector consumer crashed: ${this.consumer.lastCrash.message}`;
    return null;
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }

  private async handleBatch(batch: RecordBatch): Promise<void> {
    let result: BatchResult;
    try {
      result = await this.applyBatch(batch, false);
    } catch (err) {
      if (!isDataError(err)) throw err;
      this.opts.log.warn(
        { err, topic: batch.topic, partition: batch.partition },
        'Postgres refused a record of the batch; applying record by record to set it aside',
      );
      result = await this.applyBatch(batch, true);
    }
    this.record(batch, result);
  }

  /**
   * One transaction: lock the partition's stored offset, apply what lies beyond it, dead-letter what cannot
   * be applied (before the commit, so no record is ever covered without being applied or dead-lettered),
   * store the new offset.
   */
  private applyBatch(batch: RecordBatch, isolate: boolean): Promise<BatchResult> {
    const { topic, partition } = batch;
    return inTransaction(this.opts.pool, async (client) => {
      const stored = await readNextOffset(client, this.groupId, topic, partition, { forUpdate: true });
      const plan = planBatch(batch.records, stored);
      const result: BatchResult = {
        applied: new Map(),
        duplicates: 0,
        alreadyApplied: plan.alreadyApplied,
        rejected: plan.invalid.map(({ record, error }) => ({ record, error, reason: 'invalid' })),
        nextOffset: plan.nextOffset,
      };
      if (plan.nextOffset === null) return result;
      for (const { record, event } of plan.apply) {
        const projection = project(event, { topic, partition, offset: record.offset });
        if (!projection) continue; // not an event history projects (cannot pass validation for these topics)
        const outcome = isolate
          ? await this.applyIsolated(client, () => applyProjection(client, projection))
          : await applyProjection(client, projection);
        if (outcome === 'duplicate') result.duplicates += 1;
        else if (outcome === 'applied') result.applied.set(event.type, (result.applied.get(event.type) ?? 0) + 1);
        else result.rejected.push({ record, error: `Postgres refused it: ${outcome.error}`, reason: 'unprojectable' });
      }
      await this.deadLetter(result.rejected);
      await storeNextOffset(client, this.groupId, topic, partition, plan.nextOffset);
      return result;
    });
  }

  private async applyIsolated<T>(client: PoolClient, fn: () => Promise<T>): Promise<T | { error: string }> {
    await client.query('SAVEPOINT record');
    try {
      const value = await fn();
      await client.query('RELEASE SAVEPOINT record');
      return value;
    } catch (err) {
      if (!isDataError(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT record');
      return { error: (err as Error).message };
    }
  }

  private async deadLetter(rejected: Rejected[]): Promise<void> {
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
  private record(batch: RecordBatch, r: BatchResult): void {
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
