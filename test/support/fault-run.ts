/**
 * One fault-suite run: the whole stack as processes, a stream of alerts into it, and the accounting at the end.
 * Each test file gets its own topic prefix and database (test/setup-env.ts), so a run's dead-letter topic and
 * stand-ins hold only what this run did.
 */
import { isDeepStrictEqual } from 'node:util';
import { createLogger } from '@alertbus/common';
import { createKafka, ensureTopics } from '@alertbus/kafka';
import type { Kafka } from 'kafkajs';
import { AlertStream, type AlertStreamOptions } from './alert-stream';
import { expectedSummary, settle, type DeliverySummary, type Expectation, type Settled } from './exactly-once';
import { rulesWithoutStormControl, startFullStack, type FullStack, type ServiceName } from './stack';

/**
 * Settings that shorten what the services wait between retries, so a run fits CI. None of them shortens what
 * a service must survive: the outages the tests cause are longer than what today's retries give up after.
 */
export const FAULT_ENV: NodeJS.ProcessEnv = {
  DELIVERY_RETRY_MIN_BACKOFF_MS: '200',
  DELIVERY_RETRY_MAX_BACKOFF_MS: '3000',
  INFRA_RETRY_MIN_BACKOFF_MS: '100',
  INFRA_RETRY_MAX_BACKOFF_MS: '2000',
  PG_CONNECT_TIMEOUT_MS: '2000',
  PG_STATEMENT_TIMEOUT_MS: '10000',
  INGEST_KAFKA_TIMEOUT_MS: '5000',
  ROUTER_SESSION_TIMEOUT_MS: '6000',
};

/** Long enough for a run on a busy 2-core machine; a run that ends sooner is never slowed down by it. */
export const FAULT_TEST_TIMEOUT_MS = 15 * 60_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FaultRun {
  full: FullStack;
  stream: AlertStream;
  kafka: Kafka;
  /** The stack's environment beyond the run's own (rules file, brokers): what another instance started beside it needs. */
  env: NodeJS.ProcessEnv;
  /** Stops the stream, waits for the pipeline to drain and history to catch up, and counts. */
  finish(opts?: { timeoutMs?: number }): Promise<Settled & { expectation: Expectation; expected: DeliverySummary }>;
  stop(): Promise<void>;
}

export async function startFaultRun(opts: {
  env?: NodeJS.ProcessEnv;
  stream: Omit<AlertStreamOptions, 'ingestUrl'>;
  /** Brokers of the run when it is not the jest run's shared one (the broker test has its own). */
  brokers?: string[];
}): Promise<FaultRun> {
  const brokers = opts.brokers ?? process.env.KAFKA_BROKERS!.split(',');
  // Each alert of the stream is counted as its own root post and page: no storm summary in between.
  const env = { ...FAULT_ENV, ROUTING_RULES: rulesWithoutStormControl(), KAFKA_BROKERS: brokers.join(','), ...opts.env };
  const full = await startFullStack(env);
  const kafka = createKafka({ brokers, clientId: 'fault-suite', log: createLogger('fault-suite', 'silent') });
  await ensureTopics(kafka);
  const stream = new AlertStream({ ...opts.stream, ingestUrl: () => full.stack.url('ingest') });
  return {
    full,
    stream,
    kafka,
    env,
    async finish(o = {}) {
      await stream.stop();
      const unanswered = stream.abandoned.filter((a) => a.kind === 'firing').map((a) => a.alias);
      const expectation: Expectation = { accepted: stream.accepted(), resolved: stream.resolved(), unanswered };
      // Every count below is of what ingest accepted: an ingest that accepted nothing would pass them all. A fault only
      // delays acceptance (the stream sends again for minutes), so most of what the stream started was accepted.
      const started = stream.aliases.length;
      if (started === 0 || expectation.accepted.length < started / 2) {
        throw new Error(`ingest accepted ${expectation.accepted.length} of the ${started} alerts the stream started: the run proves nothing`);
      }
      const ctx = { kafka, slack: full.slack.state, opsgenie: full.opsgenie.state, historyUrl: () => full.stack.url('history') };
      const settled = await settle(ctx, expectation, { timeoutMs: o.timeoutMs ?? 5 * 60_000 });
      const answers = Object.entries(stream.answers)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ');
      settled.details.unshift(`ingest answered: ${answers}; abandoned: ${stream.abandoned.length}; rejected: ${stream.rejected.length}`);
      // A service that died explains every count after it: say so first, with its last lines.
      for (const exit of full.stack.unexpectedExits().reverse()) settled.details.unshift(exit);
      return { ...settled, expectation, expected: expectedSummary(expectation) };
    },
    async stop() {
      await full.stop();
    },
  };
}

/** The status of a service's /readyz, or 'no answer' (not listening, or no answer within the timeout). */
export async function readyzStatus(full: FullStack, service: ServiceName, timeoutMs = 5_000): Promise<number | 'no answer'> {
  try {
    const res = await fetch(`${full.stack.url(service)}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'no answer';
  }
}

/**
 * Polls `probe` until `done` says its value is final or `timeoutMs` passes, and returns the last value either way:
 * the caller reports it with the run's other counts instead of failing on the first shortfall.
 */
export async function pollUntil<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, intervalMs = 2_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    let ok = false;
    try {
      value = await probe();
      ok = true;
    } catch {
      // not answerable yet (a reader stalled on an open transaction, a service restarting)
    }
    if (ok && (done(value as T) || Date.now() > deadline)) return value as T;
    if (!ok && Date.now() > deadline) return probe();
    await sleep(intervalMs);
  }
}

/** Prints the counts and what falls short, so a failing run says which aliases and why, not only how many. */
export function report(name: string, actual: object, expected: object, details: readonly string[]): void {
  const same = isDeepStrictEqual(actual, expected);
  process.stderr.write(
    `\n[faults] ${name}: ${same ? 'as expected' : 'NOT as expected'}\n  ${JSON.stringify(actual)}\n` +
      details.map((d) => `  - ${d}\n`).join(''),
  );
}
