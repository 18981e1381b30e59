/**
 * KafkaJS gives every fetch of a consumer the one `maxWaitTimeInMs`. Short (100 ms), an idle consumer makes ten empty
 * fetches a second, each a wakeup of the process and of the broker's network, request and purgatory threads. Long, a
 * partition resumed while a fetch is held (after a batch that deferred, or a back-off) is fetched only once the held
 * fetch ends, and KafkaJS sleeps that long when every partition is paused. A held fetch with `minBytes` 1 ends as soon
 * as a record becomes readable (for read_committed, when the transaction's commit marker moves the stable offset), so
 * the wait only paces fetches that find nothing. `chooseNextFetchWait` lets a consumer pick each fetch's wait as it
 * starts: long while nothing is paused, short while a partition will be resumed soon.
 */
import { createRequire } from 'node:module';
import { envInt } from '@alertbus/common';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

/** How long the broker may hold an idle consumer's fetch unless KAFKA_IDLE_FETCH_WAIT_MS says otherwise. */
export const DEFAULT_IDLE_FETCH_WAIT_MS = 1_000;
/** Above this a member's heartbeats (sent between fetches) come too seldom for the loops' session timeouts. */
export const MAX_IDLE_FETCH_WAIT_MS = 5_000;

/** KAFKA_IDLE_FETCH_WAIT_MS (a ConfigError names a bad value), read when a consume loop is built. */
export function idleFetchWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  return envInt(env, 'KAFKA_IDLE_FETCH_WAIT_MS', DEFAULT_IDLE_FETCH_WAIT_MS, { min: 0, max: MAX_IDLE_FETCH_WAIT_MS });
}

/** What a fetch about to start asks of the broker: how long it may hold the fetch, and how many bytes end it sooner. */
export interface FetchChoice {
  maxWaitMs: number;
  /** Unset: the consumer's own `minBytes`. */
  minBytes?: number;
  /**
   * Waited for before the fetch starts, which then takes what the chooser returns at that point: for a consumer whose
   * partitions are all paused, in place of KafkaJS's sleep of `maxWaitMs` (an event that resumes one, or a bound).
   */
  hold?: Promise<unknown>;
}

/** The choice for the fetch that is about to start, handed from the consumer's FETCH_START to its fetch. */
let next: (() => number | FetchChoice) | null = null;

/**
 * Call from a consumer's FETCH_START listener: KafkaJS emits it synchronously just before it calls its consumer group's
 * fetch, which takes `choose()` as that fetch's wait (and KafkaJS's sleep when every partition is paused), and its
 * `minBytes` when the choice names one.
 */
export function chooseNextFetchWait(choose: () => number | FetchChoice): void {
  next = choose;
}

let installed = false;

/**
 * Puts the hand-over above into KafkaJS's ConsumerGroup.fetch for the whole process; consumers that choose nothing keep
 * their `maxWaitTimeInMs`. Returns false, changing nothing, when the class is not where KafkaJS 2.2 keeps it.
 */
export function installFetchWaitChoice(): boolean {
  if (installed) return true;
  let ConsumerGroup: { prototype: Record<string, unknown> };
  try {
    ConsumerGroup = kafkajsRequire('./src/consumer/consumerGroup') as { prototype: Record<string, unknown> };
  } catch {
    return false;
  }
  const fetch = ConsumerGroup?.prototype?.fetch;
  if (typeof fetch !== 'function') return false;
  ConsumerGroup.prototype.fetch = function (this: { maxWaitTime: number; minBytes: number }, ...args: unknown[]) {
    const choose = next;
    next = null;
    const apply = (choice: number | FetchChoice) => {
      if (typeof choice === 'number') this.maxWaitTime = choice;
      else {
        this.maxWaitTime = choice.maxWaitMs;
        if (choice.minBytes !== undefined) this.minBytes = choice.minBytes;
      }
    };
    if (choose) {
      const choice = choose();
      if (typeof choice === 'object' && choice.hold) {
        return choice.hold.catch(() => undefined).then(() => {
          apply(choose());
          return (fetch as (...a: unknown[]) => unknown).apply(this, args);
        });
      }
      apply(choice);
    }
    return (fetch as (...a: unknown[]) => unknown).apply(this, args);
  };
  installed = true;
  return true;
}
