import { randomUUID } from 'node:crypto';
import { decodeEnvelope, GROUPS, TOPICS } from '@alertbus/schemas';
import type { createKafka } from '@alertbus/kafka';
import type { Logger } from 'pino';
import { SilenceBook, type SilenceEvent } from './core/silences';

type Kafka = ReturnType<typeof createKafka>;

export interface SilenceFollowerOptions {
  kafka: Kafka;
  log: Logger;
  onChange?: (book: SilenceBook) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Reads silences.v1 (one partition) from the beginning and keeps following it, outside any transaction:
 * every router instance needs every silence. Not part of the router's consumer group: a group of its own
 * per process, never committed, deleted on stop.
 */
export class SilenceFollower {
  readonly book = new SilenceBook();
  private readonly groupId = `${GROUPS.router}.silences.${randomUUID()}`;
  private readonly consumer;
  private readonly admin;
  /** Next offset to read, per partition. */
  private readonly positions = new Map<number, bigint>();
  private started = false;
  /** The consumer stopped for good: waiting for it is pointless, decisions go on with what was read. */
  private failed: Error | null = null;

  constructor(private readonly opts: SilenceFollowerOptions) {
    this.consumer = opts.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      readUncommitted: false,
    });
    this.admin = opts.kafka.admin();
    // Batches made only of transaction markers never reach eachBatch; this event still reports their end.
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      if (e.payload.restart || !this.started) return;
      this.failed = e.payload.error;
      opts.log.error({ err: e.payload.error }, 'the silences reader stopped: new silences are no longer seen until a restart');
    });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, (e) => {
      const { partition, lastOffset } = e.payload as { partition: number; lastOffset: string };
      this.advance(partition, BigInt(lastOffset) + 1n);
    });
  }

  private advance(partition: number, next: bigint): void {
    if (next > (this.positions.get(partition) ?? 0n)) this.positions.set(partition, next);
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [TOPICS.silences], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        let changed = false;
        for (const m of batch.messages) {
          const decoded = decodeEnvelope(m.value, TOPICS.silences);
          if (!decoded.ok) {
            this.opts.log.warn({ offset: m.offset, error: decoded.error }, 'skipping an invalid record on the silences topic');
            continue;
          }
          if (decoded.event.type === 'SilenceCreated' || decoded.event.type === 'SilenceExpired') {
            this.book.apply(decoded.event as SilenceEvent);
            changed = true;
          }
        }
        this.advance(batch.partition, BigInt(batch.lastOffset()) + 1n);
        if (changed) this.opts.onChange?.(this.book);
      },
    });
    this.started = true;
  }

  /**
   * Waits until every silence written before this call has been read (the topic's end at the time of the
   * call). Returns false when that took longer than `timeoutMs`; the caller decides with what it has.
   */
  async catchUp(timeoutMs: number): Promise<boolean> {
    if (!this.started || this.failed) return false;
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
    await this.consumer.disconnect().catch(() => undefined);
    await this.admin.deleteGroups([this.groupId]).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}
