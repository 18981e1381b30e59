import { Counter, Gauge, Histogram, createRegistry, type Registry } from '@alertbus/common';
import { consumeLoopMetrics } from '@alertbus/kafka';

/** The router's Prometheus metrics: what it decided and why, and what its transactions cost. */
export function createRouterMetrics(registry: Registry = createRegistry('router')) {
  return {
    registry,
    loop: consumeLoopMetrics(registry),
    decisions: new Counter({
      name: 'alertbus_router_decisions_total',
      help: 'Incident events decided, by event type and reason.',
      labelNames: ['type', 'reason'] as const,
      registers: [registry],
    }),
    commands: new Counter({
      name: 'alertbus_router_commands_total',
      help: 'Commands emitted for the sinks, by type.',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'alertbus_router_dead_letters_total',
      help: 'Input records the router could not decide on and sent to the dead-letter topic.',
      registers: [registry],
    }),
    batchTransaction: new Histogram({
      name: 'alertbus_router_batch_transaction_seconds',
      help: 'From a batch\'s decision to the commit of the transaction holding its outputs, state and offsets (waiting for the one in progress, then its own).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    batchStage: new Histogram({
      name: 'alertbus_router_batch_stage_seconds',
      help:
        'Where a committed batch\'s time went, by stage: turn_wait (from its fetch to its partition\'s turn), catch_up (silences and the ' +
        'other instances\' incidents read to their end), decide, commit_wait (for the transaction in progress), transaction (its own).',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    batchRecords: new Histogram({
      name: 'alertbus_router_batch_records',
      help: 'Input records per committed batch (the batches of one partition number; a transaction may carry several).',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    produceCalls: new Histogram({
      name: 'alertbus_router_batch_produce_calls',
      help: 'Produce calls per committed transaction: outputs over the size or count bound of one call are split, in the same transaction.',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    transactionRetries: new Counter({
      name: 'alertbus_router_transaction_retries_total',
      help: 'Failed transaction steps that were retried (batch: whole batch aborted and decided again).',
      labelNames: ['what'] as const,
      registers: [registry],
    }),
    restoreSeconds: new Histogram({
      name: 'alertbus_router_state_restore_seconds',
      help: 'Time to restore the state of newly assigned partitions from the state topic.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    aliases: new Gauge({
      name: 'alertbus_router_aliases',
      help: 'Keys whose state this instance holds (incidents and Slack records).',
      registers: [registry],
    }),
    stateEntries: new Gauge({
      name: 'alertbus_router_state_entries',
      help: 'States held in memory, by kind: incident (an alias) or slack (a command message or a thread link).',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    evictions: new Counter({
      name: 'alertbus_router_state_evictions_total',
      help: 'States forgotten after ROUTER_STATE_RETENTION (resolved incidents, Slack records), by event time.',
      registers: [registry],
    }),
    silencesPruned: new Counter({
      name: 'alertbus_router_silences_pruned_total',
      help: 'Silences dropped from memory because they ended before any input still to come.',
      registers: [registry],
    }),
    rulesReloads: new Counter({
      name: 'alertbus_router_rules_reload_total',
      help:
        'Reloads of the routing rules file (file change or SIGHUP), by result: applied, rejected (old rules stay), unchanged. ' +
        'A start whose file was refused, on the last good rules, counts as rejected.',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    rulesInfo: new Gauge({
      name: 'alertbus_router_rules_info',
      help: 'The routing rules in force: 1 for their version (sha256 of the file).',
      labelNames: ['version'] as const,
      registers: [registry],
    }),
    rulesFileRejected: new Gauge({
      name: 'alertbus_router_rules_file_rejected',
      help:
        'The rules file was refused (invalid, empty, unreadable) at the last reload or at start, and other rules are in force ' +
        '(the last good ones; alertbus_router_rules_info tells which): 1, or 0 once the file is valid.',
      registers: [registry],
    }),
    silences: new Gauge({
      name: 'alertbus_router_silences',
      help: 'Silences and maintenance windows read from the silences topic (active or not).',
      registers: [registry],
    }),
    silencesCatchUpTimeouts: new Counter({
      name: 'alertbus_router_silences_catch_up_timeouts_total',
      help: 'Batches decided before the silences topic was read to its end (the wait timed out).',
      registers: [registry],
    }),
    sharedCatchUpTimeouts: new Counter({
      name: 'alertbus_router_shared_catch_up_timeouts_total',
      help: 'Batches decided before router.shared.v1 (the other instances\' incidents) was read to its end (the wait timed out).',
      registers: [registry],
    }),
    silenceEndTicks: new Counter({
      name: 'alertbus_router_silence_end_ticks_total',
      help: 'Ticks written to router.ticks.v1 for firings kept under a silence that ended (SilenceEndedTick).',
      registers: [registry],
    }),
    inhibitionEndTicks: new Counter({
      name: 'alertbus_router_inhibition_end_ticks_total',
      help: 'Ticks written to router.ticks.v1 for firings kept while inhibited that nothing inhibits any more (InhibitionEndedTick).',
      registers: [registry],
    }),
    stormTicks: new Counter({
      name: 'alertbus_router_storm_ticks_total',
      help: 'Ticks written to router.ticks.v1 for quiet storms whose summary lacked changes.',
      registers: [registry],
    }),
    inputs: new Counter({
      name: 'alertbus_router_inputs_total',
      help: 'Input records committed (decided or dead-lettered).',
      registers: [registry],
    }),
  };
}

export type RouterMetrics = ReturnType<typeof createRouterMetrics>;
