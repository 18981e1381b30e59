import type { Kafka } from 'kafkajs';
import { EventProducer } from '@alertbus/kafka';

/**
 * Ingest's producer. writeEvents has validated every event already (and answers 400 naming the one that is not
 * valid), and it bounds a request's size itself (INGEST_MAX_NORMALISED_BYTES): a request over one produce call's
 * budget is written in parts, in order, instead of refused.
 */
export function ingestProducer(kafka: Kafka, opts: { maxQueuedEvents?: number } = {}): EventProducer {
  return new EventProducer(kafka, { ...opts, validate: false, maxSendBytes: Number.POSITIVE_INFINITY });
}
