/**
 * given(events) → a MemoryStore fed the way the projector feeds Postgres: each event validated, written to
 * its type's topic (partition 0, offsets counting up), handed over as a batch with its position.
 */
import { topicOf, validateEnvelope, type AnyEnvelope, type ValidationResult } from '@alertbus/schemas';
import { MemoryStore } from '../memory-store';

export const CONSUMER = 'history-spec';

export interface LogRecord {
  topic: string;
  partition: number;
  offset: string;
  decoded: ValidationResult;
}

export class World {
  readonly store = new MemoryStore();
  /** Every record "written" so far, per topic, in offset order. */
  readonly log = new Map<string, LogRecord[]>();

  /** Writes the events to their topics and delivers each record once, in the order given. */
  when(...events: AnyEnvelope[]): this {
    for (const event of events) this.deliver([this.write(event)]);
    return this;
  }

  /** Writes a record to a topic without delivering it (e.g. one that fails its schema). */
  write(event: AnyEnvelope | unknown, topic = topicOf((event as AnyEnvelope).type)): LogRecord {
    const records = this.log.get(topic) ?? [];
    this.log.set(topic, records);
    const decoded = validateEnvelope(event, topic);
    const record = { topic, partition: 0, offset: String(records.length), decoded };
    records.push(record);
    return record;
  }

  /** Hands records to the store as one batch of their partition (as a consumer redelivery would). */
  deliver(records: LogRecord[]) {
    const [first] = records;
    if (!first) throw new Error('nothing to deliver');
    return this.store.applyBatch(CONSUMER, first.topic, first.partition, records);
  }

  /** Every record of a topic again, from offset `from` (what a consumer reset to an older offset sees). */
  redeliverFrom(topic: string, from = 0) {
    return this.deliver((this.log.get(topic) ?? []).slice(from));
  }
}

export function given(...events: AnyEnvelope[]): World {
  for (const e of events) {
    const r = validateEnvelope(e, topicOf(e.type));
    if (!r.ok) throw new Error(`test event ${e.type} ${e.id} does not validate: ${r.error}`);
  }
  return new World().when(...events);
}
