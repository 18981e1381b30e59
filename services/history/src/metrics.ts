/** The projector's counters, registered on the service's one registry so /metrics shows them. */
import { Counter, Gauge, createRegistry, type Registry } from '@alertbus/common';

export interface HistoryMetrics {
  registry: Registry;
  applied: Counter<'type'>;
  skipped: Counter<'reason'>;
  deadLettered: Counter<'reason'>;
  lag: Gauge<'topic' | 'partition'>;
  batches: Counter;
}

export function createHistoryMetrics(registry: Registry = createRegistry('history')): HistoryMetrics {
  return {
    registry,
    applied: new Counter({
      name: 'alertbus_history_events_applied_total',
      help: 'Events projected into Postgres, by event type.',
      labelNames: ['type'],
      registers: [registry],
    }),
    skipped: new Counter({
      name: 'alertbus_history_events_skipped_total',
      help: 'Records not applied again: below the stored offset (redelivery) or an event id already in the timeline.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'alertbus_history_dead_letters_total',
      help: 'Records sent to the dead-letter topic: invalid, or rejected by Postgres.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'alertbus_history_projection_lag',
      help: 'Records written to the partition but not yet projected, as of the last batch.',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    batches: new Counter({
      name: 'alertbus_history_batches_total',
      help: 'Batches projected, each in one Postgres transaction: events applied per batch is how well the fetches gather records.',
      registers: [registry],
    }),
  };
}
