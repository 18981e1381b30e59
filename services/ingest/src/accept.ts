import { ProduceRefused, type SendOptions } from '@alertbus/kafka';
import { validateEnvelope, type AlertSource, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { fitAlertEvent } from './fit-alert';
import { HttpError } from './http-error';
import { BOUND_THE_GROUP } from './plugins/errors';
import type { IngestMetrics, ProduceOutcome } from './metrics';
import type { AcceptedBody } from './responses';
import { toAlertEnvelopes, type NormaliseResult, type RequestCleaning } from '@alertbus/normalise';

/** What ingest needs from a producer: `EventProducer` from @alertbus/kafka has this shape. */
export interface IngestProducer {
  send(events: AnyEnvelope[], opts?: SendOptions): Promise<void>;
  readonly connected: boolean;
  /** Produce calls made so far, when the producer counts them (EventProducer does). */
  readonly produceCalls?: number;
  /** Events waiting for Kafka and in flight, when the producer tells (EventProducer does). */
  readonly backlog?: { queued: number; inFlight: number };
}

/** Whether the Kafka cluster answers (BrokerHealth from @alertbus/kafka has this shape). */
export interface KafkaReachability {
  readonly reachable: boolean;
  readonly problem: string | null;
  /** The cluster acknowledged a write just now (a probe that times out meanwhile does not count it unreachable). */
  answered?(): void;
}

export interface AcceptDeps {
  producer: IngestProducer;
  kafkaTimeoutMs: number;
  metrics: IngestMetrics;
  now: () => Date;
  newId: () => string;
  /** Most bytes one request's events may come to, serialised (INGEST_MAX_NORMALISED_BYTES). */
  maxNormalisedBytes: number;
  /** When given, requests are refused at once (503) while the cluster does not answer. */
  kafkaHealth?: KafkaReachability;
}

/** What ingest knows about a webhook request besides its body. */
export interface RequestFacts {
  /** The INGEST_TOKENS name it was sent with. */
  authenticatedAs?: string;
  cleaning?: RequestCleaning;
}

/** Retry-After of a 503: soon when only the queue is full, a probe interval or two when Kafka is away. */
export const RETRY_AFTER_QUEUE_FULL_S = 1;
export const RETRY_AFTER_KAFKA_DOWN_S = 5;

export type Accepted = AcceptedBody;

/** Kafka's default limit for one record batch is 1 MiB; one event must stay below it with room for framing. */
export const MAX_EVENT_BYTES = 1_000_000;

/** What an event costs in a record batch besides its value: key, the three headers and the record's framing. */
export function recordOverhead(event: AnyEnvelope): number {
  return Buffer.byteLength(event.alias) + Buffer.byteLength(event.id) + event.type.length + 96;
}

/**
 * Turns a normalised webhook into events and writes them in ONE send, resolving only once Kafka has
 * acknowledged every record; everything that can reject the request is checked before anything is sent, but for
 * an alert too large for a record even with its text cut: the others are written, then it is refused (413).
 */
export async function acceptAlerts(
  deps: AcceptDeps,
  source: AlertSource,
  result: NormaliseResult,
  facts: RequestFacts = {},
): Promise<Accepted> {
  if (!result.ok) throw new HttpError(400, 'invalid_payload', result.message);
  const events = toAlertEnvelopes(result.alerts, { source, recordedAt: deps.now().toISOString(), newId: deps.newId, ...facts });
  const { leftOut } = await writeEvents(deps, events, {
    what: 'alert',
    timeoutMs: deps.kafkaTimeoutMs,
    timeoutVariable: 'INGEST_KAFKA_TIMEOUT_MS',
    leaveOutOversized: true,
  });
  deps.metrics.acceptedFrom(source, events.length - leftOut.length);
  if (leftOut.length > 0) throw oversizedAlerts(leftOut, events.length);
  return { accepted: events.length, ids: events.map((e) => e.id), aliases: events.map((e) => e.alias) };
}

/** An event left out of a request because it is over one record even at its smallest. */
export interface LeftOut {
  index: number;
  bytes: number;
}

/**
 * The 413 for alerts whose structure alone (labels, annotation names, links) is over one record. The request's other
 * alerts are written by then: Alertmanager never sends a group again after a 4xx, so refusing them too would lose them.
 */
function oversizedAlerts(leftOut: readonly LeftOut[], count: number): HttpError {
  const which = leftOut.map((l) => `alert ${l.index} is ${l.bytes} bytes`).join(', ');
  const written = count - leftOut.length;
  const its = leftOut.length === 1 ? 'its' : 'their';
  const rest = written === 0 ? 'nothing was recorded' : `the request's other ${written} ${written === 1 ? 'alert was' : 'alerts were'} recorded`;
  return new HttpError(
    413,
    'payload_too_large',
    `${which} once normalised, with ${its} text cut and without ${its} raw payload, above the ${MAX_EVENT_BYTES} bytes one Kafka record may hold ` +
      `(${its} labels, annotation names and links alone): ${leftOut.length === 1 ? 'it was' : 'they were'} not recorded; ${rest}`,
  );
}

export interface WriteOptions {
  /** What one event stands for, in error messages ("alert 2 cannot be recorded…"). */
  what: string;
  timeoutMs: number;
  /** The variable that sets timeoutMs, named in the 503 message. */
  timeoutVariable: string;
  /** An event over one record even at its smallest is left out and reported, instead of refusing the whole request. */
  leaveOutOversized?: boolean;
}

export interface WriteOutcome {
  /** The events left out (only with leaveOutOversized), by their index in the request. */
  leftOut: readonly LeftOut[];
}

const NOTHING_LEFT_OUT: WriteOutcome = Object.freeze({ leftOut: Object.freeze([]) });

// Module-level functions, not closures made per request (under tsx, keepNames made each closure cost more than its call).
function unavailable(detail: string, retryAfterS: number): HttpError {
  return new HttpError(503, 'kafka_unavailable', `kafka unavailable: ${detail}; nothing was written`, { 'retry-after': String(retryAfterS) });
}

function tookSince(deps: AcceptDeps, outcome: ProduceOutcome, startedMs: number): void {
  deps.metrics.produceTook(outcome, (performance.now() - startedMs) / 1000);
}

/**
 * Validates the events, checks each fits in one Kafka record, then writes them in ONE send and resolves
 * only once Kafka has acknowledged every record (else HttpError 400 / 413 / 503; nothing is sent on 4xx, but for
 * the events leaveOutOversized leaves out).
 */
export async function writeEvents(deps: AcceptDeps, events: AnyEnvelope[], opts: WriteOptions): Promise<WriteOutcome> {
  let total = 0;
  // Each event's UTF-8 bytes, made once: the producer measures and the encoder copies them instead of measuring the
  // text again twice and encoding it into the request.
  const encoded: Buffer[] = [];
  let leftOut: LeftOut[] | undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const check = validateEnvelope(event);
    if (!check.ok) {
      throw new HttpError(400, 'invalid_payload', `${opts.what} ${i} cannot be recorded as ${/^[AEIOU]/.test(event.type) ? 'an' : 'a'} ${event.type} event: ${check.error}`);
    }
    let value: Buffer = Buffer.from(JSON.stringify(event));
    if (value.length > MAX_EVENT_BYTES && event.type === 'AlertReceived') {
      // A long text is no reason to refuse an alert, and refusing it would refuse its whole group, which Alertmanager
      // never sends again: raw is cut or left out, then the text is cut shorter, until it fits.
      const fitted = fitAlertEvent(event as Envelope<'AlertReceived'>, value.length, MAX_EVENT_BYTES);
      if (fitted) {
        events[i] = fitted.event;
        value = fitted.value;
      }
    }
    const bytes = value.length;
    if (bytes > MAX_EVENT_BYTES) {
      if (opts.leaveOutOversized) {
        (leftOut ??= []).push({ index: i, bytes });
        continue;
      }
      throw new HttpError(
        413,
        'payload_too_large',
        `${opts.what} ${i} is ${bytes} bytes once normalised (raw payload included), above the ${MAX_EVENT_BYTES} bytes one Kafka record may hold`,
      );
    }
    encoded.push(value);
    // Checked as it grows, so a request that would amplify stops costing work as soon as it is over.
    total += bytes + recordOverhead(events[i]!);
    if (total > deps.maxNormalisedBytes) {
      throw new HttpError(
        413,
        'payload_too_large',
        `the request comes to more than ${deps.maxNormalisedBytes} bytes once normalised (by ${opts.what} ${i} of ${events.length}; ` +
          `INGEST_MAX_NORMALISED_BYTES): ${opts.what === 'alert' ? `${BOUND_THE_GROUP}, or ` : ''}send fewer or smaller alerts per request`,
      );
    }
  }
  if (leftOut !== undefined && leftOut.length === events.length) return { leftOut };
  const out = leftOut;
  const toSend = out === undefined ? events : events.filter((_, i) => !out.some((l) => l.index === i));
  if (!deps.producer.connected) {
    deps.metrics.produceRefused.inc({ reason: 'not-connected' });
    throw unavailable('the producer is not connected', RETRY_AFTER_KAFKA_DOWN_S);
  }
  if (deps.kafkaHealth && !deps.kafkaHealth.reachable) {
    deps.metrics.produceRefused.inc({ reason: 'kafka-unreachable' });
    throw unavailable(deps.kafkaHealth.problem ?? 'the cluster does not answer', RETRY_AFTER_KAFKA_DOWN_S);
  }
  const started = performance.now();
  try {
    // Refused (never written) if not handed to Kafka in time; once handed over, the request waits for the
    // acknowledgement however long it takes, so a 503 always means "not written, now or later".
    await deps.producer.send(toSend, { queueTimeoutMs: opts.timeoutMs, encoded });
    tookSince(deps, 'ok', started);
    deps.kafkaHealth?.answered?.();
    return leftOut === undefined ? NOTHING_LEFT_OUT : { leftOut };
  } catch (err) {
    if (err instanceof ProduceRefused && err.reason === 'too-large') {
      tookSince(deps, 'refused', started);
      throw new HttpError(413, 'payload_too_large', `${err.message}: send fewer or smaller alerts per request`);
    }
    if (err instanceof ProduceRefused) {
      tookSince(deps, err.reason === 'queue-full' ? 'refused' : 'timeout', started);
      deps.metrics.produceRefused.inc({ reason: err.reason });
      const detail = err.reason === 'queue-timeout' ? `${err.message} (${opts.timeoutVariable})` : `${err.message} (INGEST_PRODUCE_QUEUE_MAX)`;
      throw unavailable(detail, err.reason === 'queue-full' ? RETRY_AFTER_QUEUE_FULL_S : RETRY_AFTER_KAFKA_DOWN_S);
    }
    // Kafka answered the write with an error it does not retry: not written.
    tookSince(deps, 'error', started);
    throw unavailable(`Kafka refused the write: ${(err as Error).message || String(err)}`, RETRY_AFTER_KAFKA_DOWN_S);
  }
}
