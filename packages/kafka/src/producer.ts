import { Partitioners, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { assertValid, topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { toMessage } from './records';

interface Pending {
  events: AnyEnvelope[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface EventProducerOptions {
  /** Largest number of records grouped into one produce call. */
  maxBatchRecords?: number;
  /** Largest total value size grouped into one produce call, under the broker's 1 MiB request default. */
  maxBatchBytes?: number;
  /** Validate every event against its schema before sending (on by default). */
  validate?: boolean;
}

/**
 * An idempotent, acks=all producer that groups concurrent sends into few produce calls: while one call is
 * in flight, later sends queue up and go out together in the next one. Each send resolves only once the
 * broker has acknowledged every one of its records.
 */
export class EventProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private inFlight = false;
  private isConnected = false;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly validate: boolean;
  /** Number of produce calls made; the ratio to sends shows how well grouping works. */
  produceCalls = 0;

  constructor(kafka: Kafka, opts: EventProducerOptions = {}) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2, like the Java client: a key lands on the same partition whoever writes it.
      createPartitioner: Partitioners.DefaultPartitioner,
      // An idempotent producer must not give up on a record midway (its sequence numbers would go wrong);
      // callers that need an answer sooner (ingest's 503) time out on their side.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.isConnected = false;
    });
    this.producer.on(this.producer.events.CONNECT, () => {
      this.isConnected = true;
    });
    this.maxBatchRecords = opts.maxBatchRecords ?? 2000;
    this.maxBatchBytes = opts.maxBatchBytes ?? 768 * 1024;
    this.validate = opts.validate ?? true;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.isConnected = true;
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
    this.isConnected = false;
  }

  /** Sends the events (each to its type's topic, keyed by alias) and resolves once all are acknowledged. */
  send(events: AnyEnvelope[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.validate) {
      try {
        events.forEach(assertValid);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    // Group whole sends (never split one) until the record or byte budget is reached; the first always goes.
    const batch: Array<{ pending: Pending; messages: Array<{ topic: string; message: Message }> }> = [];
    let records = 0;
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      const messages = next.events.map((e) => ({ topic: topicOf(e.type), message: toMessage(e) }));
      const size = messages.reduce((n, m) => n + Buffer.byteLength(m.message.value as string), 0);
      if (batch.length > 0 && (records + messages.length > this.maxBatchRecords || bytes + size > this.maxBatchBytes)) break;
      this.queue.shift();
      batch.push({ pending: next, messages });
      records += messages.length;
      bytes += size;
    }
    const byTopic = new Map<string, TopicMessages>();
    for (const { messages } of batch) {
      for (const { topic, message } of messages) {
        let tm = byTopic.get(topic);
        if (!tm) byTopic.set(topic, (tm = { topic, messages: [] }));
        tm.messages.push(message);
      }
    }
    try {
      this.produceCalls += 1;
      await this.producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1 });
      batch.forEach((b) => b.pending.resolve());
    } catch (err) {
      batch.forEach((b) => b.pending.reject(err as Error));
    } finally {
      this.inFlight = false;
      if (this.queue.length > 0) void this.flush();
    }
  }
}
