/**
 * The history projection as a specification (`@alertbus/spec`'s projectionSpec): given what was delivered,
 * when one more delivery, then the rows. The state is a World: a MemoryStore fed the way the projector feeds
 * Postgres (each event written to its type's topic, partition 0, offsets counting up, handed over as a batch
 * with its position), and the log of what was written, so a case can deliver part of it again.
 */
import { topicOf, validateEnvelope, type AnyEnvelope, type ValidationResult } from '@alertbus/schemas';
import { projectionSpec } from '@alertbus/spec';
import { MemoryStore } from '../memory-store';

export const CONSUMER = 'history-spec';

export interface LogRecord {
  topic: string;
  partition: number;
  offset: string;
  decoded: ValidationResult;
}

/**
 * What the projector can be handed: an event, written to its topic and delivered once; a record written but
 * not delivered yet (`unread`, e.g. one that fails its schema); or a topic delivered again from an offset
 * (`redeliver`, what a consumer reset to an older offset sees).
 */
export type Delivery = AnyEnvelope | Unread | Redelivery;
interface Unread {
  kind: 'unread';
  event: unknown;
  topic: string;
}
interface Redelivery {
  kind: 'redeliver';
  topic: string;
  from: number;
}

export const unread = (event: AnyEnvelope | unknown, topic = topicOf((event as AnyEnvelope).type)): Unread => ({ kind: 'unread', event, topic });
export const redeliver = (topic: string, from = 0): Redelivery => ({ kind: 'redeliver', topic, from });

export type BatchResult = ReturnType<MemoryStore['applyBatch']>;

export class World {
  readonly store = new MemoryStore();
  /** Every record written so far, per topic, in offset order. */
  readonly log = new Map<string, LogRecord[]>();
  /** What the latest delivered batch did (skipped, applied, set aside). */
  last: BatchResult | undefined;

  handle(d: Delivery): this {
    if (!('kind' in d)) {
      const topic = topicOf(d.type);
      const r = validateEnvelope(d, topic);
      if (!r.ok) throw new Error(`test event ${d.type} ${d.id} does not validate: ${r.error}`);
      this.deliver([this.write(d, topic)]);
    } else if (d.kind === 'unread') this.write(d.event, d.topic);
    else this.deliver((this.log.get(d.topic) ?? []).slice(d.from));
    return this;
  }

  private write(event: unknown, topic: string): LogRecord {
    const records = this.log.get(topic) ?? [];
    this.log.set(topic, records);
    const record = { topic, partition: 0, offset: String(records.length), decoded: validateEnvelope(event, topic) };
    records.push(record);
    return record;
  }

  /** Hands records to the store as one batch of their partition. */
  private deliver(records: LogRecord[]): void {
    const [first] = records;
    if (!first) throw new Error('nothing to deliver');
    this.last = this.store.applyBatch(CONSUMER, first.topic, first.partition, records);
  }
}

/** The projection: a fresh World, and each delivery handled in turn. */
export const projection = {
  initialState: () => new World(),
  evolve: (world: World, d: Delivery) => world.handle(d),
};

/** The World after these deliveries, in this order (to compare orders, or as the oracle of the Postgres store). */
export const replay = (...deliveries: Delivery[]): World => deliveries.reduce(projection.evolve, projection.initialState());

/**
 * given(deliveries).when(delivery).then((world) => assertions): the rows are asserted where they are read,
 * so `then` takes the assertions on the World the deliveries left.
 */
export const history = projectionSpec<World, Delivery, (world: World) => void>(projection, {
  check: (world, assert) => assert(world),
});
