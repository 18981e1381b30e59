import type { Kafka, Producer } from 'kafkajs';
import { Murmur2Partitioner } from '../partitioner';
import { errorChain } from '@alertbus/common';

/**
 * CONCURRENT_TRANSACTIONS: the coordinator is still finishing this producer's previous transaction.
 * KafkaJS does not retry it in sendOffsets (tulios/kafkajs#430); trying the same call again shortly works.
 */
export function isConcurrentTransactionsError(err: unknown): boolean {
  return errorChain(err).some((e) => e.type === 'CONCURRENT_TRANSACTIONS');
}

/** The producer was fenced: another producer with the same transactionalId started after it. */
export function isFencedError(err: unknown): boolean {
  return errorChain(err).some((e) => e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED');
}

/**
 * Retries `fn` while it fails with CONCURRENT_TRANSACTIONS, up to `attempts` tries in all, every `backoffMs`
 * (20 ms, as Kafka's Java client does: the coordinator finishes the previous transaction's markers within
 * milliseconds, so a growing back-off only adds latency).
 */
export async function retryConcurrentTransactions<T>(
  fn: () => Promise<T>,
  opts: { attempts?: number; backoffMs?: number; onRetry?: (err: Error, attempt: number) => void } = {},
): Promise<T> {
  const attempts = opts.attempts ?? 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isConcurrentTransactionsError(err) || attempt >= attempts) throw err;
      opts.onRetry?.(err as Error, attempt);
      await sleep(opts.backoffMs ?? 20);
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise-chain mutex: transactions and state loads never overlap. */
export class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * The one transactional producer of an instance, and the fencing bookkeeping around it: once a
 * transaction's outcome is unknown the producer is marked broken, and the next use replaces it with a
 * fresh one, which fences every earlier producer with the same transactionalId and settles what they
 * left open.
 */
export class FencingProducer {
  private producer: Producer | null = null;
  private broken = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly transactionalId: string,
    /**
     * How long the coordinator lets a transaction stay open before aborting it (10 s, Kafka Streams' default for
     * exactly-once). An instance killed mid-transaction leaves it open, and the next owner's restore waits for it
     * to settle: this bounds that wait. A transaction here takes milliseconds, and one aborted is decided again.
     */
    private readonly transactionTimeout = 10_000,
  ) {}

  /** The current producer, or a fresh one when there is none or it was marked broken. */
  async get(): Promise<Producer> {
    return this.broken || !this.producer ? this.renew() : this.producer;
  }

  /** The transaction's outcome is unknown: the next `get` fences and replaces the producer. */
  markBroken(): void {
    this.broken = true;
  }

  /**
   * A transactional producer that has fenced every earlier one with the same transactionalId: KafkaJS
   * only sends the transactional InitProducerId on the first transaction(), not on connect().
   */
  async renew(): Promise<Producer> {
    const old = this.producer;
    this.producer = null;
    if (old) await old.disconnect().catch(() => undefined);
    const p = this.kafka.producer({
      transactionalId: this.transactionalId,
      idempotent: true,
      // A transaction's records and offsets are in flight together (see the processor's `transact`): AddPartitionsToTxn
      // and AddOffsetsToTxn go to the transaction coordinator, Produce and TxnOffsetCommit may share its connection, and one
      // request at a time per connection would send them one after the other anyway. Produce stays one at a time per
      // broker (KafkaJS's idempotent producer holds a lock per broker until the answer), and our code sends every other
      // request of a transaction only after the one it depends on was answered; five is Kafka's bound for an idempotent
      // producer's requests in flight on a connection.
      maxInFlightRequests: 5,
      transactionTimeout: this.transactionTimeout,
      allowAutoTopicCreation: false,
      // KafkaJS's DefaultPartitioner's partitions, its murmur2 in 32-bit arithmetic instead of a BigInt per operation
      // (as EventProducer's): it was 2 % of the router's CPU per decision through Kafka.
      createPartitioner: Murmur2Partitioner,
      // Right after a commit the coordinator answers the next AddPartitionsToTxn with CONCURRENT_TRANSACTIONS
      // until its markers are written (milliseconds). KafkaJS retries that with the client's backoff (200 ms
      // here), which would cap us at a few transactions a second; the Java client waits ~20 ms. A gentle
      // multiplier keeps the first retries near that.
      retry: { initialRetryTime: 20, multiplier: 1.2, retries: 15, maxRetryTime: 1_000 },
    });
    await p.connect();
    const fence = await p.transaction();
    await fence.abort();
    this.producer = p;
    this.broken = false;
    return p;
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = null;
  }
}
