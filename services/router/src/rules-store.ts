import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { errorChain, infraBackoffMs, isInfrastructureError, type InfraRetryPolicy } from '@alertbus/common';
import { readRanges, wholeTopicRanges } from '@alertbus/kafka';
import { HEADERS, ROUTER_RULES_LATEST_KEY, TOPICS } from '@alertbus/schemas';
import { sha256Hex } from '@alertbus/routing';

/** A rules version as router.rules.v1 holds it: the file's text, whose sha256 is the version. */
export interface StoredRules {
  version: string;
  text: Buffer;
  /** The path the text was read from when it was applied. */
  origin: string;
}

/**
 * Largest rules text published: a record must stay under the broker's max.message.bytes (1 MiB by default), and a
 * refusal for its size would be retried for ever. A larger file still applies; it cannot be a last good version.
 */
export const MAX_STORED_RULES_BYTES = 900 * 1024;

/** The broker's refusals of a record for its size: no retry gets it through. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Longest origin kept in a header (a path; the text itself is not bounded by it). */
const MAX_ORIGIN_CHARS = 512;

/**
 * router.rules.v1: the text of every rules version a router applies (at start and on reload), keyed by version,
 * and the latest applied under a fixed key. Shared by every instance and kept whole (compacted), so it outlives a
 * process and a pod: a router whose rules file is refused at start takes the latest from here instead of exiting.
 */
export class RulesStore {
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private closed = false;
  private readonly stopped: Promise<void>;
  private stop!: () => void;
  /** Publishes one after the other, so `latest` ends on the version applied last. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: { kafka: Kafka; log: Logger; retry?: InfraRetryPolicy }) {
    this.stopped = new Promise((r) => (this.stop = r));
  }

  /**
   * One attempt: the version's record, then `latest`, each acknowledged by every in-sync replica. Two produce calls, as
   * both in one would be one record batch of twice the text, over the broker's 1 MiB for a text over half of it.
   * Rules the broker refuses as too large (a topic set below its default) apply all the same, like those over
   * MAX_STORED_RULES_BYTES: said, not kept. Retrying could not get them through, and would keep a router from starting.
   */
  async publishOnce(rules: StoredRules): Promise<void> {
    if (rules.text.length > MAX_STORED_RULES_BYTES) {
      this.opts.log.warn(
        { rulesVersion: rules.version, bytes: rules.text.length, max: MAX_STORED_RULES_BYTES },
        `routing rules too large for ${TOPICS.routerRules}: not kept as last good rules`,
      );
      return;
    }
    const headers = { [HEADERS.rulesVersion]: rules.version, [HEADERS.rulesOrigin]: rules.origin.slice(0, MAX_ORIGIN_CHARS) };
    const producer = await this.connect();
    try {
      for (const key of [rules.version, ROUTER_RULES_LATEST_KEY]) {
        await producer.send({ topic: TOPICS.routerRules, acks: -1, messages: [{ key, value: rules.text, headers, partition: 0 }] });
      }
    } catch (err) {
      const refusal = errorChain(err).find((e) => TOO_LARGE.has(String((e as { type?: unknown }).type)));
      if (!refusal) throw err;
      this.opts.log.warn(
        { rulesVersion: rules.version, bytes: rules.text.length, reason: refusal.message },
        `routing rules refused by ${TOPICS.routerRules} as too large (the topic's max.message.bytes): not kept as last good rules`,
      );
    }
  }

  /**
   * Publishes after the ones asked before, waiting out Kafka faults with the infrastructure back-off (a version
   * is never skipped for an outage). Resolves false when the store was closed first, or on a non-infrastructure error (logged).
   */
  publish(rules: StoredRules): Promise<boolean> {
    const run = this.queue.then(() => this.publishRetrying(rules));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async publishRetrying(rules: StoredRules): Promise<boolean> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.publishOnce(rules);
        return true;
      } catch (err) {
        if (this.closed) return false;
        if (!isInfrastructureError(err)) {
          this.opts.log.error({ err, rulesVersion: rules.version }, `cannot publish the routing rules to ${TOPICS.routerRules}`);
          return false;
        }
        const retryInMs = infraBackoffMs(attempt, this.opts.retry);
        this.opts.log.warn({ attempt, retryInMs, rulesVersion: rules.version, reason: (err as Error).message }, `publishing the routing rules to ${TOPICS.routerRules} failed; retrying`);
        await Promise.race([new Promise((r) => setTimeout(r, retryInMs)), this.stopped]);
      }
    }
    return false;
  }

  /**
   * The rules applied last by any instance (`latest`), or null when none ever was. Reads the whole topic: it is
   * small (compacted: one record per version). A record whose text does not hash to its version is skipped.
   */
  async latest(): Promise<StoredRules | null> {
    let found: StoredRules | null = null;
    await readRanges({
      kafka: this.opts.kafka,
      ranges: await wholeTopicRanges(this.opts.kafka, [TOPICS.routerRules]),
      onBatch: (batch) => {
        for (const r of batch.records) {
          if (r.key !== ROUTER_RULES_LATEST_KEY || !r.value) continue;
          const version = sha256Hex(r.value);
          if (r.headers[HEADERS.rulesVersion] !== version) continue;
          found = { version, text: r.value, origin: r.headers[HEADERS.rulesOrigin] ?? '' };
        }
      },
    });
    return found;
  }

  private connect(): Promise<Producer> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      // Not idempotent: a record written twice after a retry is the same text under the same key, which compaction folds.
      const producer = this.opts.kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      try {
        await producer.connect();
      } catch (err) {
        this.connecting = null;
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
      this.producer = producer;
      return producer;
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop();
    const producer = this.producer ?? (await this.connecting?.catch(() => null));
    this.producer = null;
    await producer?.disconnect().catch(() => undefined);
  }
}
