import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@alertbus/common';
import { chooseNextFetchWait, installFetchWaitChoice, TopicEnds, type FetchChoice, type TopicEnd } from '@alertbus/kafka';
import { decodeEnvelope, HEADERS, TOPIC_PREFIX, TOPICS } from '@alertbus/schemas';

/** How a notification's delivery ended, as far as a waiting sender is concerned. */
export type DeliveryResult =
  | { outcome: 'posted'; channel: string; ts: string }
  | { outcome: 'failed'; error: string }
  /** The router found a notification with the same tag and dedupKey posted before: this one is not posted. */
  | { outcome: 'duplicate' }
  | { outcome: 'timeout' };

/** One registered wait: write the event only once `reading` resolves, so its delivery is not missed. */
export interface DeliveryWait {
  result: Promise<DeliveryResult>;
  /** The reader reads from at or before the topics' ends as of the wait (rejects when the ends cannot be read). */
  reading: Promise<void>;
  cancel(): void;
}

/** What POST /notify {sync: true} needs: a wait for the delivery of the chain that started with an event id. */
export interface DeliveryWaits {
  /** Registers the wait; call before writing the event, and write it once `reading` resolves. */
  wait(correlationId: string, timeoutMs: number): DeliveryWait;
  readonly ready: boolean;
}

const WATCHED = new Set(['NotificationPosted', 'DeliveryFailed', 'NotificationRouted']);

const TOPICS_READ = [TOPICS.deliveries, TOPICS.notifications];

/** The reader's fetch wait while reading: the broker answers as soon as a record is there (minBytes 1). */
const FETCH_WAIT_MS = 200;
/** Its heartbeat interval; also the longest a paused reader's fetch loop is held (KafkaJS heartbeats after it). */
const HEARTBEAT_MS = 1_000;

/**
 * A topic's end, asked twice at most (the second time on fresh metadata: a leader that moved). Not KafkaJS's
 * fetchTopicOffsets: it retries a missing topic for ~20 s while the sync request waits, in three round trips a try.
 */
async function endOf(ends: TopicEnds, topic: string): Promise<TopicEnd[]> {
  try {
    return await ends.latest(topic);
  } catch {
    return await ends.latest(topic).catch((err: Error) => {
      throw new Error(`the end of ${topic} cannot be read: ${err.message}`);
    });
  }
}

/**
 * Follows deliveries.v1 (and the router's decisions on notifications.v1) with a consumer group of its own (one per ingest process, never
 * committing), and hands each notification delivery to the request waiting for it, matched by the
 * correlation id every event of the chain carries (the notification's own id). It reads only while a request waits:
 * with none, its topics are paused (every alert's delivery events would otherwise each wake ingest and the broker for a
 * fetch nobody needs); the first wait seeks every partition to its end and resumes.
 */
export class DeliveryWaiter implements DeliveryWaits {
  private readonly waiting = new Map<string, (r: DeliveryResult) => void>();
  private consumer: Consumer | null = null;
  private ends: TopicEnds | null = null;
  private joined = false;
  /** Resolves once the reader reads from the ends (set while reading or about to; null while paused). */
  private resumed: Promise<void> | null = null;
  private read = 0;
  /** Every topic is paused in KafkaJS (set once pause() took, cleared as resume() hands them back). */
  private paused = false;
  /** The fetch loop's holds while paused: each ends the hold early (on resume or stop). */
  private readonly held = new Set<() => void>();
  private fetchesPaused = 0;

  constructor(private readonly opts: { kafka: Kafka; log: Logger }) {}

  get ready(): boolean {
    return this.joined;
  }

  /** Records handed over by the reader so far (all of them, waited for or not). */
  get recordsRead(): number {
    return this.read;
  }

  /** How many times the reader's fetch loop went round while every topic was paused (its idle wake-ups). */
  get pausedFetches(): number {
    return this.fetchesPaused;
  }

  /** Whether the reader fetches or is about to (a request waits). */
  get reading(): boolean {
    return this.resumed !== null;
  }

  async start(joinTimeoutMs = 30_000): Promise<void> {
    const consumer = this.opts.kafka.consumer({
      groupId: `${TOPIC_PREFIX}alertbus-ingest-notify-${randomUUID()}`,
      sessionTimeout: 15_000,
      // The broker answers a fetch as soon as a record is there (minBytes 1): this bounds the empty polls while a request
      // waits. While paused, KafkaJS would sleep this long between looks at its partitions (five wake-ups a second);
      // the fetch loop is held instead until a resume (or a heartbeat is due), see holdWhilePaused.
      maxWaitTimeInMs: FETCH_WAIT_MS,
      heartbeatInterval: HEARTBEAT_MS,
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    const canHold = installFetchWaitChoice();
    consumer.on(consumer.events.FETCH_START, () => {
      if (this.paused) this.fetchesPaused++;
      if (canHold) chooseNextFetchWait(() => this.nextFetch());
    });
    this.ends = new TopicEnds(this.opts.kafka);
    await this.ends.connect();
    const joined = new Promise<void>((res) => {
      consumer.on(consumer.events.GROUP_JOIN, () => {
        this.joined = true;
        // A consumer KafkaJS restarted after a crash has a group of its own, with nothing paused.
        if (this.waiting.size === 0 && this.consumer === consumer) this.pause();
        res();
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPICS.deliveries, TOPICS.notifications], fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, message }) => {
        this.read++;
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
    if (this.waiting.size === 0) this.pause();
    await Promise.race([joined, new Promise((r) => setTimeout(r, joinTimeoutMs).unref())]);
    if (!this.joined) this.opts.log.warn('the deliveries reader has not joined yet; sync notifications may time out until it does');
  }

  /** The next fetch: while paused, held until a resume or a heartbeat is due, then KafkaJS's look without a sleep. */
  private nextFetch(): number | FetchChoice {
    if (!this.paused) return FETCH_WAIT_MS;
    return { maxWaitMs: 0, hold: this.holdWhilePaused() };
  }

  private holdWhilePaused(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.held.delete(done);
        resolve();
      };
      const timer = setTimeout(done, HEARTBEAT_MS);
      this.held.add(done);
    });
  }

  private releaseHeld(): void {
    for (const done of [...this.held]) done();
  }

  private pause(): void {
    this.resumed = null;
    try {
      this.consumer?.pause(TOPICS_READ.map((topic) => ({ topic })));
      this.paused = this.consumer !== null;
    } catch (err) {
      // KafkaJS has no group between a crash and its restart; the restarted one is paused when it joins.
      this.opts.log.debug({ err }, 'deliveries reader not paused: restarting');
    }
  }

  /**
   * Seeks every partition to its end, then resumes: what was written while paused is not read, and what is written
   * after the ends were read is. While reading, nothing seeks (a wait in progress needs what follows its position).
   */
  private resume(): Promise<void> {
    const consumer = this.consumer;
    const topicEnds = this.ends;
    if (!consumer || !topicEnds) return Promise.resolve();
    const ends = Promise.all(TOPICS_READ.map(async (topic) => ({ topic, partitions: await endOf(topicEnds, topic) })));
    const resumed: Promise<void> = ends.then((read) => {
      if (this.resumed !== resumed) return; // paused again meanwhile (or another resume took over)
      for (const { topic, partitions } of read) for (const p of partitions) consumer.seek({ topic, partition: p.partition, offset: p.high });
      consumer.resume(TOPICS_READ.map((topic) => ({ topic })));
      this.paused = false;
      this.releaseHeld();
    });
    this.resumed = resumed;
    resumed.catch((err: Error) => {
      if (this.resumed === resumed) this.resumed = null;
      this.opts.log.warn({ err }, 'the deliveries reader could not read its topics\' ends');
    });
    return resumed;
  }

  wait(correlationId: string, timeoutMs: number): DeliveryWait {
    let timer: NodeJS.Timeout | undefined;
    const cancel = () => {
      if (timer) clearTimeout(timer);
      if (this.waiting.get(correlationId) !== settleThis) return;
      this.waiting.delete(correlationId);
      if (this.waiting.size === 0 && this.consumer) this.pause();
    };
    let settleThis: ((r: DeliveryResult) => void) | undefined;
    const result = new Promise<DeliveryResult>((resolve) => {
      const settle = (r: DeliveryResult) => {
        cancel();
        resolve(r);
      };
      settleThis = settle;
      this.waiting.set(correlationId, settle);
      timer = setTimeout(() => settle({ outcome: 'timeout' }), timeoutMs);
    });
    const reading = this.resumed ?? this.resume();
    return { result, reading, cancel };
  }

  async stop(): Promise<void> {
    for (const settle of [...this.waiting.values()]) settle({ outcome: 'timeout' });
    const consumer = this.consumer;
    this.consumer = null;
    this.resumed = null;
    this.paused = false;
    this.releaseHeld();
    await consumer?.disconnect().catch((err: Error) => this.opts.log.warn({ err }, 'closing the deliveries reader failed'));
    await this.ends?.disconnect().catch(() => undefined);
    this.ends = null;
  }
}
