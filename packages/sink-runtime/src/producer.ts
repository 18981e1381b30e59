import type { Kafka } from 'kafkajs';
import { EventProducer } from '@alertbus/kafka';

/**
 * The producer of a sink's delivery events. When a ledger statement completes several commands, their delivery events
 * are sent in one turn of the event loop: they go out together, in one produce call (`groupSameTurn`), rather than the
 * first alone and the others in a second call after its acknowledgement. Fewer produce requests for the sink to write
 * and the broker to serve; none of the events waits for another's acknowledgement.
 */
export function createSinkProducer(kafka: Kafka): EventProducer {
  return new EventProducer(kafka, { groupSameTurn: true });
}
