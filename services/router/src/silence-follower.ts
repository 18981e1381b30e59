import { randomUUID } from 'node:crypto';
import { decodeEnvelope, GROUPS, TOPICS } from '@alertbus/schemas';
import { ConsumeLoop, type ConsumeLoopMetrics, type createKafka } from '@alertbus/kafka';
import type { InfraRetryPolicy } from '@alertbus/common';
import type { Logger } from 'pino';
import { SilenceBook, type SilenceEvent } from '@alertbus/routing';

type Kafka = ReturnType<typeof createKafka>;

export interface SilenceFollowerOptions {
  kafka: Kafka;
  log: Logger;
  onChange?: (book: SilenceBook) => void;
  retry?: InfraRetryPolicy;
  loopMetrics?: ConsumeLoopMetrics;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads silences.v1 (one partition) from the beginning and keeps following it, outside any transaction:
 * every router instance needs every silence. Not part of the router's consumer group: a group of its own
 * per process, never committed, deleted on stop. Runs on the shared consume loop, so a broker outage pauses
 * it and it picks up where it was; while it is not consuming, the router is not ready.
 * Records that fail their schema are skipped here with a warning: history, which also reads the topic,
 * dead-letters them.
 */
export class SilenceFollower {
  readonly book = new SilenceBook();
  private readonly groupId = `${GROUPS.router}.silences.${randomUUID()}`;
  private readonly loop: ConsumeLoop;
  private readonly admin;
  /** Next offset to read, per partition. */
  private readonly positions = new Map<number, bigint>();
  private started = false;

  constructor(opts: SilenceFollowerOptions) {
    this.admin = opts.kafka.admin();
    this.loop = new ConsumeLoop({
      kafka: opts.kafka,
      groupId: this.groupId,
      topics: [TOPICS.silences],
      log: opts.log,
      commit: 'none',
      retry: opts.retry,
      metrics: opts.loopMetrics,
      consumer: { sessionTimeout: 30_000, readUncommitted: false },
      onPosition: (_topic, partition, next) => this.advance(partition, BigInt(next)),
      handleBatch: async (batch) => {
        let changed = false;
        for (const r of batch.records) {
          const decoded = decodeEnvelope(r.value, TOPICS.silences);
          if (!decoded.ok) {
            opts.log.warn({ offset: r.offset, error: decoded.error }, 'skipping an invalid record on the silences topic');
            continue;
          }
          if (decoded.event.type === 'SilenceCreated' || decoded.event.type === 'SilenceExpired') {
            this.book.apply(decoded.event as SilenceEvent);
            changed = true;
          }
        }
        if (changed) opts.onChange?.(this.book);
      },
    });
  }

  private advance(partition: number, next: bigint): void {
    if (next > (this.positions.get(partition) ?? 0n)) this.positions.set(partition, next);
  }

  /** Null while following the topic, else why not (the router is not ready then). */
  problem(): string | null {
    const p = this.loop.problem();
    return p === null ? null : `silences reader: ${p}`;
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.loop.start();
    this.started = true;
  }

  /**
   * Waits until every silence written before this call has been read (the topic's end at the time of the
   * call). Returns false when that took longer than `timeoutMs`; the caller decides with what it has.
   */
  async catchUp(timeoutMs: number): Promise<boolean> {
    if (!this.started || this.loop.problem() !== null) return false;
    const deadline = Date.now() + timeoutMs;
    const ends = await this.admin.fetchTopicOffsets(TOPICS.silences);
    for (;;) {
      if (ends.every((e) => (this.positions.get(e.partition) ?? 0n) >= BigInt(e.high) || BigInt(e.high) <= BigInt(e.low))) return true;
      if (Date.now() >= deadline) return false;
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.loop.stop();
    await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}
