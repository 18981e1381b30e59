import { validateEnvelope, type AlertSource, type AnyEnvelope } from '@alertbus/schemas';
import { toAlertEnvelopes } from './envelopes';
import { HttpError } from './http-error';
import type { IngestMetrics } from './metrics';
import type { NormaliseResult } from './normalise/result';
import type { AcceptedBody } from './payloads/common';
import type { RequestCleaning } from './plugins/json-body';
import { TimeoutError, withTimeout } from './timeout';

/** What ingest needs from a producer: `EventProducer` from @alertbus/kafka has this shape. */
export interface IngestProducer {
  send(events: AnyEnvelope[]): Promise<void>;
  readonly connected: boolean;
  /** Produce calls made so far, when the producer counts them (EventProducer does). */
  readonly produceCalls?: number;
}

export interface AcceptDeps {
  producer: IngestProducer;
  kafkaTimeoutMs: number;
  metrics: IngestMetrics;
  now: () => Date;
  newId: () => string;
  /** Most bytes one request's events may come to, serialised (INGEST_MAX_NORMALISED_BYTES). */
  maxNormalisedBytes: number;
}

/** What ingest knows about a webhook request besides its body. */
export interface RequestFacts {
  /** The INGEST_TOKENS name it was sent with. */
  authenticatedAs?: string;
  cleaning?: RequestCleaning;
}

export type Accepted = AcceptedBody;

/** Kafka's default limit for one record batch is 1 MiB; one event must stay below it with room for framing. */
export const MAX_EVENT_BYTES = 1_000_000;

/** What an event costs in a record batch besides its value: key, the three headers and the record's framing. */
export function recordOverhead(event: AnyEnvelope): number {
  return Buffer.byteLength(event.alias) + Buffer.byteLength(event.id) + event.type.length + 96;
}

/**
 * Turns a normalised webhook into events and writes them in ONE send, resolving only once Kafka has
 * acknowledged every record; everything that can reject the request is checked before anything is sent.
 */
export async function acceptAlerts(
  deps: AcceptDeps,
  source: AlertSource,
  result: NormaliseResult,
  facts: RequestFacts = {},
): Promise<Accepted> {
  if (!result.ok) throw new HttpError(400, 'invalid_payload', result.message);
  const events = toAlertEnvelopes(result.alerts, { source, recordedAt: deps.now().toISOString(), newId: deps.newId, ...facts });
  await writeEvents(deps, events, { what: 'alert', timeoutMs: deps.kafkaTimeoutMs, timeoutVariable: 'INGEST_KAFKA_TIMEOUT_MS' });
  deps.metrics.alertsAccepted.inc({ source }, events.length);
  return { accepted: events.length, ids: events.map((e) => e.id), aliases: events.map((e) => e.alias) };
}

export interface WriteOptions {
  /** What one event stands for, in error messages ("alert 2 cannot be recorded…"). */
  what: string;
  timeoutMs: number;
  /** The variable that sets timeoutMs, named in the 503 message. */
  timeoutVariable: string;
}

/**
 * Validates the events, checks each fits in one Kafka record, then writes them in ONE send and resolves
 * only once Kafka has acknowledged every record (else HttpError 400 / 413 / 503; nothing is sent on 4xx).
 */
export async function writeEvents(deps: AcceptDeps, events: AnyEnvelope[], opts: WriteOptions): Promise<void> {
  let total = 0;
  for (const [i, event] of events.entries()) {
    const check = validateEnvelope(event);
    if (!check.ok) {
      throw new HttpError(400, 'invalid_payload', `${opts.what} ${i} cannot be recorded as ${/^[AEIOU]/.test(event.type) ? 'an' : 'a'} ${event.type} event: ${check.error}`);
    }
    const bytes = Buffer.byteLength(JSON.stringify(event));
    if (bytes > MAX_EVENT_BYTES) {
      throw new HttpError(
        413,
        'payload_too_large',
        `${opts.what} ${i} is ${bytes} bytes once normalised (raw payload included), above the ${MAX_EVENT_BYTES} bytes one Kafka record may hold`,
      );
    }
    // Checked as it grows, so a request that would amplify stops costing work as soon as it is over.
    total += bytes + recordOverhead(event);
    if (total > deps.maxNormalisedBytes) {
      throw new HttpError(
        413,
        'payload_too_large',
        `the request comes to more than ${deps.maxNormalisedBytes} bytes once normalised (by ${opts.what} ${i} of ${events.length}; ` +
          'INGEST_MAX_NORMALISED_BYTES): send fewer or smaller alerts per request',
      );
    }
  }
  if (!deps.producer.connected) {
    throw new HttpError(503, 'kafka_unavailable', 'kafka unavailable: the producer is not connected');
  }
  const stop = deps.metrics.produceSeconds.startTimer();
  try {
    await withTimeout(deps.producer.send(events), opts.timeoutMs, 'the Kafka write');
    stop({ outcome: 'ok' });
  } catch (err) {
    const timedOut = err instanceof TimeoutError;
    stop({ outcome: timedOut ? 'timeout' : 'error' });
    const detail = timedOut
      ? `no acknowledgement within ${opts.timeoutMs} ms (${opts.timeoutVariable})`
      : (err as Error).message || String(err);
    throw new HttpError(503, 'kafka_unavailable', `kafka unavailable: ${detail}`);
  }
}
