import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import {
  DEFAULT_RETRY_POLICY,
  DeliveryError,
  RetriesExhausted,
  withRetries,
  Counter,
  type PoolClient,
  type Registry,
  type RetryPolicy,
} from '@alertbus/common';
import { EventConsumer, deadLetterEvent, type ConsumedRecord, type EventProducer } from '@alertbus/kafka';
import { deriveId, makeEnvelope, type AnyEnvelope, type EventType } from '@alertbus/schemas';
import type { CommandLedger } from './ledger';

/** What executing a command produced: the delivery event's type and its sink-specific fields. */
export interface DeliveryOutcome {
  type: EventType;
  data: Record<string, unknown>;
}

/** The one-method notifier of a sink (plus optional reconciliation after a crash). */
export interface Notifier {
  readonly target: 'slack' | 'pager';
  /** Command types this notifier executes; others on the topic are ignored. */
  readonly handles: ReadonlySet<string>;
  /** Executes the command once against the external API; throws DeliveryError saying whether to retry. */
  execute(command: AnyEnvelope, attempt: number): Promise<DeliveryOutcome>;
  /**
   * Called when an earlier run started this command and died before recording the result: returns the
   * outcome if the effect already happened (so it is not done twice), or undefined to execute it.
   */
  reconcile?(command: AnyEnvelope, startedAt: Date): Promise<DeliveryOutcome | undefined>;
  /** What would have been sent, for dry-run mode (no credentials configured). */
  dryRun(command: AnyEnvelope): DeliveryOutcome;
  /** Rows the sink keeps with the completion, in the same transaction (e.g. a Slack thread's root ts). */
  persist?(client: PoolClient, command: AnyEnvelope, outcome: DeliveryOutcome): Promise<void>;
}

export interface SinkOptions {
  name: string;
  kafka: Kafka;
  groupId: string;
  topic: string;
  producer: EventProducer;
  ledger: CommandLedger;
  notifier: Notifier;
  log: Logger;
  registry: Registry;
  dryRun: boolean;
  retryPolicy?: RetryPolicy;
  now?: () => Date;
}

/**
 * Consumes a command topic and executes each command at most once in effect: completed commands are
 * skipped (their delivery events re-emitted with the same ids), commands whose previous run died midway are
 * reconciled first, failures are retried by the shared classification and finally dead-lettered.
 */
export class SinkRunner {
  private readonly consumer: EventConsumer;
  private readonly deliveries: Counter<string>;
  private readonly now: () => Date;

  constructor(private readonly opts: SinkOptions) {
    this.now = opts.now ?? (() => new Date());
    this.deliveries = new Counter({
      name: 'alertbus_sink_deliveries_total',
      help: 'Commands handled by the sink, by command type and outcome.',
      labelNames: ['sink', 'command', 'outcome'],
      registers: [opts.registry],
    });
    this.consumer = new EventConsumer({
      kafka: opts.kafka,
      groupId: opts.groupId,
      topics: [opts.topic],
      log: opts.log,
      producer: opts.producer,
      handle: (event, record) => this.handle(event, record),
    });
  }

  get isRunning(): boolean {
    return this.consumer.isRunning;
  }

  start(): Promise<void> {
    return this.consumer.start();
  }

  stop(): Promise<void> {
    return this.consumer.stop();
  }

  private count(command: AnyEnvelope, outcome: string): void {
    this.deliveries.inc({ sink: this.opts.name, command: command.type, outcome });
  }

  private delivery(command: AnyEnvelope, outcome: DeliveryOutcome, attempts: number, dryRun: boolean): AnyEnvelope {
    const at = this.now().toISOString();
    const cmdData = command.data as { incidentId?: string };
    return makeEnvelope({
      id: deriveId(command.id, 'delivery'),
      type: outcome.type,
      alias: command.alias,
      occurredAt: at,
      recordedAt: at,
      source: this.opts.name,
      causationId: command.id,
      correlationId: command.correlationId,
      data: {
        commandId: command.id,
        commandType: command.type,
        incidentId: cmdData.incidentId,
        dryRun,
        attempts,
        ...outcome.data,
      } as never,
    } as never);
  }

  private async handle(command: AnyEnvelope, record: ConsumedRecord): Promise<void> {
    const { ledger, notifier, producer, log } = this.opts;
    if (!notifier.handles.has(command.type)) return;

    const entry = await ledger.lookup(command.id);
    if (entry && entry.status !== 'started') {
      // Done before (a redelivery after a crash): re-emit what it produced; downstream drops the same ids.
      if (entry.result) await producer.send(entry.result);
      this.count(command, 'skipped-completed');
      return;
    }

    if (this.opts.dryRun) {
      const outcome = notifier.dryRun(command);
      const event = this.delivery(command, outcome, 0, true);
      await ledger.markStarted(command);
      await ledger.finish(command.id, 'completed', [event], (c) => notifier.persist?.(c, command, outcome) ?? Promise.resolve());
      await producer.send([event]);
      this.count(command, 'dry-run');
      return;
    }

    if (entry?.status === 'started' && notifier.reconcile) {
      const found = await notifier.reconcile(command, entry.startedAt);
      if (found) {
        const event = this.delivery(command, found, entry.runs, false);
        await ledger.finish(command.id, 'completed', [event], (c) => notifier.persist?.(c, command, found) ?? Promise.resolve());
        await producer.send([event]);
        log.info({ commandId: command.id, type: command.type }, 'command had already taken effect before a restart');
        this.count(command, 'reconciled');
        return;
      }
    }

    await ledger.markStarted(command);
    try {
      const { value: outcome, attempts } = await withRetries(
        (attempt) => notifier.execute(command, attempt),
        this.opts.retryPolicy ?? DEFAULT_RETRY_POLICY,
        (err, attempt, waitMs) =>
          log.warn({ commandId: command.id, type: command.type, attempt, waitMs, error: err.message }, 'delivery retry'),
      );
      const event = this.delivery(command, outcome, attempts, false);
      await ledger.finish(command.id, 'completed', [event], (c) => notifier.persist?.(c, command, outcome) ?? Promise.resolve());
      await producer.send([event]);
      this.count(command, 'ok');
    } catch (err) {
      if (!(err instanceof RetriesExhausted)) throw err; // infrastructure trouble: the consumer retries the record
      const last: DeliveryError = err.last;
      const failed = makeEnvelope({
        id: deriveId(command.id, 'delivery'),
        type: 'DeliveryFailed',
        alias: command.alias,
        occurredAt: this.now().toISOString(),
        recordedAt: this.now().toISOString(),
        source: this.opts.name,
        causationId: command.id,
        correlationId: command.correlationId,
        data: {
          commandId: command.id,
          commandType: command.type,
          incidentId: (command.data as { incidentId?: string }).incidentId,
          target: notifier.target,
          error: last.message,
          httpStatus: last.httpStatus,
          permanent: last.permanent,
          attempts: err.attempts.length,
        },
      });
      const dead = deadLetterEvent(record, this.opts.groupId, err.attempts, this.now());
      await ledger.finish(command.id, 'failed', [failed, dead]);
      await producer.send([failed, dead]);
      log.error({ commandId: command.id, type: command.type, error: last.message }, 'delivery failed');
      this.count(command, last.permanent ? 'failed-permanent' : 'failed-retries-exhausted');
    }
  }
}
