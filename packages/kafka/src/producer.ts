import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { errorChain } from '@alertbus/common';
import { assertValid, topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { Murmur2Partitioner } from './partitioner';
import { toMessage } from './records';
import { recordSize } from './transactional/chunks';

interface Pending {
  events: AnyEnvelope[];
  /** The events as records, made once when the send is taken. */
  messages: Array<{ topic: string; message: Message }>;
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
  /** Set when this is one part of a send larger than one produce call (maxBatchBytes): the parts, and how far they got. */
  split?: SplitSend;
}

/** A send written over several produce calls, one part after the other, in order. */
interface SplitSend {
  parts: Pending[];
  /** A part was handed to the broker: the rest is no longer withdrawn on the caller's timeout. */
  handedOver: boolean;
  /** A part failed: the parts not handed over yet are withdrawn, and the send is rejected. */
  failed: boolean;
}

/**
 * A send that was never handed to the broker (the queue was full, or it waited longer than its caller
 * allowed): none of its records is written, then or later.
 */
export class ProduceRefused extends Error {
  constructor(
    readonly reason: 'queue-full' | 'queue-timeout' | 'too-large',
    message: string,
  ) {
    super(message);
    this.name = 'ProduceRefused';
  }
}

export interface SendOptions {
  /**
   * Refuse the send (ProduceRefused) if it has not been handed to the broker within this time. Once handed
   * over it waits for the broker's answer however long that takes: an idempotent producer cannot take back
   * records it has sent, so the caller must not answer "not written" for them.
   */
  queueTimeoutMs?: number;
  /** The events' JSON (JSON.stringify of each, index for index, or its UTF-8 bytes) when the caller has already made it. */
  encoded?: ReadonlyArray<string | Buffer>;
}

export interface EventProducerOptions {
  /** Largest number of records grouped into one produce call. */
  maxBatchRecords?: number;
  /**
   * Largest size (values, keys, headers and record framing) grouped into one produce call. Kept under the
   * broker's max.message.bytes (1 MiB by default), so no partition's batch is ever refused for its size. A send
   * larger than this is written in parts of at most this size (a record larger than it goes alone), one produce
   * call after the other, in order.
   */
  maxBatchBytes?: number;
  /** Largest size of one send, counted the same way; a larger send is refused before anything is written. */
  maxSendBytes?: number;
  /** Validate every event against its schema before sending (on by default). */
  validate?: boolean;
  /** Events queued or in flight beyond which a send is refused at once (ProduceRefused 'queue-full'); default unbounded. */
  maxQueuedEvents?: number;
  /**
   * The first send of an idle producer goes out after the current turn of the event loop, with every send made in that
   * same turn, instead of at once and alone (default off: at once). For callers whose sends come in bursts within one
   * turn, as a sink's delivery events do when one ledger statement completes several commands: without it the first
   * goes alone and the others wait for its acknowledgement, then go in a second produce call.
   */
  groupSameTurn?: boolean;
}

/**
 * Errors after which the idempotent producer's sequence numbers no longer match the broker's for some
 * partition: every later write there would fail or be lost, so the producer is replaced (a new producer id).
 */
function breaksSequence(err: unknown): boolean {
  return errorChain(err).some((e) => {
    const x = e as { type?: unknown; retriable?: unknown; name?: unknown };
    if (x.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER' || x.type === 'UNKNOWN_PRODUCER_ID' || x.type === 'INVALID_PRODUCER_EPOCH') return true;
    return x.name === 'KafkaJSProtocolError' && x.retriable === false;
  });
}

/**
 * An idempotent, acks=all producer that groups concurrent sends into few produce calls: while one call is
 * in flight, later sends queue up and go out together in the next one. Each send resolves only once the
 * broker has acknowledged every one of its records.
 */
export class EventProducer {
  private producer: Producer;
  private readonly kafka: Kafka;
  private readonly maxSendBytes: number;
  /** Producers replaced after an error that broke their sequence numbers. */
  producerResets = 0;
  private queue: Pending[] = [];
  private inFlight = false;
  /** A flush is due after the current turn (groupSameTurn). */
  private flushScheduled = false;
  private readonly groupSameTurn: boolean;
  private isConnected = false;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly validate: boolean;
  private readonly maxQueuedEvents: number;
  private queuedEventCount = 0;
  private inFlightEventCount = 0;
  /** Number of produce calls made; the ratio to sends shows how well grouping works. */
  produceCalls = 0;

  constructor(kafka: Kafka, opts: EventProducerOptions = {}) {
    this.kafka = kafka;
    this.producer = this.newProducer();
    this.maxBatchRecords = opts.maxBatchRecords ?? 2000;
    this.maxBatchBytes = opts.maxBatchBytes ?? 900 * 1024;
    this.maxSendBytes = opts.maxSendBytes ?? 1_000_000;
    this.validate = opts.validate ?? true;
    this.maxQueuedEvents = opts.maxQueuedEvents ?? Number.POSITIVE_INFINITY;
    this.groupSameTurn = opts.groupSameTurn ?? false;
  }

  private newProducer(): Producer {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2, like the Java client: a key lands on the same partition whoever writes it (KafkaJS's
      // DefaultPartitioner, with the hash in 32-bit arithmetic instead of BigInt).
      createPartitioner: Murmur2Partitioner,
      // An idempotent producer must not give up on a record midway (its sequence numbers would go wrong);
      // callers that need an answer sooner (ingest's 503) time out on their side.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
    producer.on(producer.events.DISCONNECT, () => {
      if (producer === this.producer) this.isConnected = false;
    });
    producer.on(producer.events.CONNECT, () => {
      if (producer === this.producer) this.isConnected = true;
    });
    return producer;
  }

  /** Replaces the producer after its sequence numbers went wrong; sends wait until the new one is connected. */
  private async resetProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.newProducer();
    this.producerResets += 1;
    await old.disconnect().catch(() => undefined);
    for (let delay = 100; ; delay = Math.min(delay * 2, 5_000)) {
      try {
        await this.producer.connect();
        this.isConnected = true;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Events waiting to be handed to the broker, and events handed over and not yet acknowledged. */
  get backlog(): { queued: number; inFlight: number } {
    return { queued: this.queuedEventCount, inFlight: this.inFlightEventCount };
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
  send(events: AnyEnvelope[], opts: SendOptions = {}): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.validate) {
      try {
        events.forEach(assertValid);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const messages = events.map((e, i) => ({ topic: topicOf(e.type), message: toMessage(e, opts.encoded?.[i]) }));
    const size = messages.reduce((n, m) => n + recordSize(m.message), 0);
    if (size > this.maxSendBytes) {
      return Promise.reject(
        new ProduceRefused('too-large', `${events.length} records of ${size} bytes in all: more than the ${this.maxSendBytes} bytes one write may hold`),
      );
    }
    const backlog = this.queuedEventCount + this.inFlightEventCount;
    if (backlog > 0 && backlog + events.length > this.maxQueuedEvents) {
      return Promise.reject(
        new ProduceRefused('queue-full', `the produce queue is full (${backlog} events waiting for Kafka, at most ${this.maxQueuedEvents})`),
      );
    }
    if (size > this.maxBatchBytes && messages.length > 1) return this.sendInParts(events, messages, opts);
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { events, messages, bytes: size, resolve, reject };
      if (opts.queueTimeoutMs !== undefined) {
        pending.timer = setTimeout(() => {
          const at = this.queue.indexOf(pending);
          if (at < 0) return; // handed over meanwhile: it waits for the broker's answer
          this.queue.splice(at, 1);
          this.queuedEventCount -= pending.events.length;
          reject(new ProduceRefused('queue-timeout', `not handed to Kafka within ${opts.queueTimeoutMs} ms (the previous write is still waiting for it)`));
        }, opts.queueTimeoutMs);
      }
      this.queue.push(pending);
      this.queuedEventCount += events.length;
      this.scheduleFlush();
    });
  }

  /**
   * A send larger than one produce call: its records cut, in order, into parts of at most maxBatchBytes, queued
   * together and written one call after the other. It resolves once every part is acknowledged. Until the first part
   * is handed to the broker the caller's timeout withdraws them all (nothing written); after that the rest waits for
   * its turn however long it takes, as one call's records would. A part that fails rejects the send and withdraws
   * the parts not handed over yet; parts already acknowledged stay written (a sender's retry is then a second copy).
   */
  private sendInParts(events: AnyEnvelope[], messages: Pending['messages'], opts: SendOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const split: SplitSend = { parts: [], handedOver: false, failed: false };
      let open: Pending | undefined;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        const bytes = recordSize(m.message);
        if (!open || (open.messages.length > 0 && open.bytes + bytes > this.maxBatchBytes)) {
          open = { events: [], messages: [], bytes: 0, resolve: () => undefined, reject: () => undefined, split };
          split.parts.push(open);
        }
        open.events.push(events[i]!);
        open.messages.push(m);
        open.bytes += bytes;
      }
      let acknowledged = 0;
      const fail = (err: Error) => {
        if (split.failed) return;
        split.failed = true;
        this.withdraw(split);
        reject(err);
      };
      for (const part of split.parts) {
        part.resolve = () => {
          acknowledged += 1;
          if (acknowledged === split.parts.length) resolve();
        };
        part.reject = fail;
      }
      if (opts.queueTimeoutMs !== undefined) {
        const timer = setTimeout(() => {
          if (split.handedOver) return; // a part is written or on its way: the rest waits for its turn
          fail(new ProduceRefused('queue-timeout', `not handed to Kafka within ${opts.queueTimeoutMs} ms (the previous write is still waiting for it)`));
        }, opts.queueTimeoutMs);
        for (const part of split.parts) part.timer = timer;
      }
      this.queue.push(...split.parts);
      this.queuedEventCount += events.length;
      this.scheduleFlush();
    });
  }

  /** Takes a split send's parts that are still queued out of the queue. */
  private withdraw(split: SplitSend): void {
    for (const part of split.parts) {
      const at = this.queue.indexOf(part);
      if (at < 0) continue;
      this.queue.splice(at, 1);
      this.queuedEventCount -= part.events.length;
    }
    clearTimeout(split.parts[0]?.timer);
  }

  /** At once, or (groupSameTurn) after the current turn, when nothing is in flight; else after the call in flight. */
  private scheduleFlush(): void {
    if (!this.groupSameTurn) {
      void this.flush();
      return;
    }
    if (this.inFlight || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    // Group whole sends (a send over maxBatchBytes was cut into parts when taken) until the record or byte budget is
    // reached; the first always goes.
    const batch: Pending[] = [];
    let records = 0;
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (batch.length > 0 && (records + next.messages.length > this.maxBatchRecords || bytes + next.bytes > this.maxBatchBytes)) break;
      this.queue.shift();
      clearTimeout(next.timer);
      if (next.split) next.split.handedOver = true;
      this.queuedEventCount -= next.events.length;
      batch.push(next);
      records += next.messages.length;
      bytes += next.bytes;
    }
    const byTopic = new Map<string, TopicMessages>();
    for (const { messages } of batch) {
      for (const { topic, message } of messages) {
        let tm = byTopic.get(topic);
        if (!tm) byTopic.set(topic, (tm = { topic, messages: [] }));
        tm.messages.push(message);
      }
    }
    this.inFlightEventCount = records;
    try {
      this.produceCalls += 1;
      await this.producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1 });
      batch.forEach((b) => b.resolve());
    } catch (err) {
      batch.forEach((b) => b.reject(err as Error));
      // A refused batch leaves the producer's sequence numbers ahead of the broker's: without a new producer,
      // later writes to that partition would fail, or be acknowledged and lost.
      if (breaksSequence(err)) await this.resetProducer();
    } finally {
      this.inFlight = false;
      this.inFlightEventCount = 0;
      if (this.queue.length > 0) void this.flush();
    }
  }
}
