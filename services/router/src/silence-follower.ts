import { decodeEnvelope, GROUPS, TOPICS } from '@alertbus/schemas';
import type { ConsumeLoopMetrics, createKafka } from '@alertbus/kafka';
import type { InfraRetryPolicy } from '@alertbus/common';
import type { Logger } from 'pino';
import { SilenceBook, type SilenceEvent } from '@alertbus/routing';
import { TopicFollower } from './topic-follower';

type Kafka = ReturnType<typeof createKafka>;

export interface SilenceFollowerOptions {
  kafka: Kafka;
  log: Logger;
  onChange?: (book: SilenceBook) => void;
  retry?: InfraRetryPolicy;
  loopMetrics?: ConsumeLoopMetrics;
}

/**
 * Reads silences.v1 (one partition) from the beginning and keeps following it: every router instance needs
 * every silence (`catchUp` waits until every silence written so far is read). While it is not consuming, the router
 * is not ready. Records that fail their schema are
 * skipped here with a warning: history, which also reads the topic, dead-letters them.
 */
export class SilenceFollower extends TopicFollower {
  readonly book: SilenceBook;

  constructor(opts: SilenceFollowerOptions) {
    const book = new SilenceBook();
    super({
      kafka: opts.kafka,
      log: opts.log,
      topic: TOPICS.silences,
      name: 'silences',
      groupPrefix: GROUPS.router,
      retry: opts.retry,
      loopMetrics: opts.loopMetrics,
      onRecords: (records) => {
        let changed = false;
        for (const r of records) {
          const decoded = decodeEnvelope(r.value, TOPICS.silences);
          if (!decoded.ok) {
            opts.log.warn({ offset: r.offset, error: decoded.error }, 'skipping an invalid record on the silences topic');
            continue;
          }
          if (decoded.event.type === 'SilenceCreated' || decoded.event.type === 'SilenceExpired') {
            book.apply(decoded.event as SilenceEvent);
            changed = true;
          }
        }
        if (changed) opts.onChange?.(book);
      },
    });
    this.book = book;
  }
}
