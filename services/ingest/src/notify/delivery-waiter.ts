import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@alertbus/common';
import { decodeEnvelope, HEADERS, TOPIC_PREFIX, TOPICS } from '@alertbus/schemas';

/** How a notification's delivery ended, as far as a waiting sender is concerned. */
export type DeliveryResult =
  | { outcome: 'posted'; channel: string; ts: string }
  | { outcome: 'failed'; error: string }
  /** The router found a notification with the same tag and dedupKey posted before: this one is not posted. */
  | { outcome: 'duplicate' }
  | { outcome: 'timeout' };

/** What POST /notify {sync: true} needs: a wait for the delivery of the chain that started with an event id. */
export interface DeliveryWaits {
  /** Registers the wait; call before writing the event, so a fast delivery is not missed. */
  wait(correlationId: string, timeoutMs: number): { result: Promise<DeliveryResult>; cancel(): void };
  readonly ready: boolean;
}

const WATCHED = new Set(['NotificationPosted', 'DeliveryFailed', 'NotificationRouted']);

/**
 * Follows deliveries.v1 (and the router's decisions on notifications.v1) from their ends with a consumer group of its own (one per ingest process, never
 * committing), and hands each notification delivery to the request waiting for it, matched by the
 * correlation id every event of the chain carries (the notification's own id).
 */
export class DeliveryWaiter implements DeliveryWaits {
  private readonly waiting = new Map<string, (r: DeliveryResult) => void>();
  private consumer: Consumer | null = null;
  private joined = false;

  constructor(private readonly opts: { kafka: Kafka; log: Logger }) {}

  get ready(): boolean {
    return this.joined;
  }

  async start(joinTimeoutMs = 30_000): Promise<void> {
    const consumer = this.opts.kafka.consumer({
      groupId: `${TOPIC_PREFIX}alertbus-ingest-notify-${randomUUID()}`,
      sessionTimeout: 15_000,
      heartbeatInterval: 1_000,
      // The broker answers a fetch as soon as a record is there (minBytes 1): this bounds only the empty polls, ten a
      // second at 100 ms, each decoded, in a process whose CPU is its intake's.
      maxWaitTimeInMs: 1_000,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    const joined = new Promise<void>((res) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        this.joined = true;
        res();
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPICS.deliveries, TOPICS.notifications], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, message }) => {
        const type = message.headers?.[HEADERS.eventType]?.toString();
        if (!type || !WATCHED.has(type) || !message.value) return;
        const decoded = decodeEnvelope(message.value, topic);
        if (!decoded.ok) return;
        const e = decoded.event;
        const settle = this.waiting.get(e.correlationId);
        if (!settle) return;
        if (e.type === 'NotificationPosted') settle({ outcome: 'posted', channel: e.data.channel, ts: e.data.ts });
        else if (e.type === 'DeliveryFailed') settle({ outcome: 'failed', error: e.data.error });
        else if (e.type === 'NotificationRouted' && e.data.reason === 'duplicate') settle({ outcome: 'duplicate' });
      },
    });
    await Promise.race([joined, new Promise((r) => setTimeout(r, joinTimeoutMs).unref())]);
    if (!this.joined) this.opts.log.warn('the deliveries reader has not joined yet; sync notifications may time out until it does');
  }

  wait(correlationId: string, timeoutMs: number): { result: Promise<DeliveryResult>; cancel(): void } {
    let timer: NodeJS.Timeout | undefined;
    const cancel = () => {
      if (timer) clearTimeout(timer);
      this.waiting.delete(correlationId);
    };
    const result = new Promise<DeliveryResult>((resolve) => {
      const settle = (r: DeliveryResult) => {
        cancel();
        resolve(r);
      };
      this.waiting.set(correlationId, settle);
      timer = setTimeout(() => settle({ outcome: 'timeout' }), timeoutMs);
    });
    return { result, cancel };
  }

  async stop(): Promise<void> {
    for (const settle of [...this.waiting.values()]) settle({ outcome: 'timeout' });
    await this.consumer?.disconnect().catch((err: Error) => this.opts.log.warn({ err }, 'closing the deliveries reader failed'));
    this.consumer = null;
  }
}
