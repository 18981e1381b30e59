import { Counter, Gauge, Histogram, type Registry } from '@alertbus/common';
import type { AlertSource } from '@alertbus/schemas';

export interface IngestMetrics {
  requests: Counter<'route' | 'status'>;
  alertsAccepted: Counter<'source'>;
  produceSeconds: Histogram<'outcome'>;
  /** Observes a produce's duration under its outcome (labelled children made once). */
  produceTook: (outcome: ProduceOutcome, seconds: number) => void;
  /** Counts alerts accepted from a source, through a labelled child made once per source. */
  acceptedFrom: (source: AlertSource, alerts: number) => void;
  /** Where the produce-call counter reads from at scrape time (the producer's own count). */
  produceCalls: { read?: () => number | undefined };
  /** Requests answered 503 without writing anything, by why. */
  produceRefused: Counter<'reason'>;
  /** Where the produce-queue gauge reads from at scrape time. */
  produceQueue: { read?: () => { queued: number; inFlight: number } | undefined };
}

export type ProduceOutcome = 'ok' | 'error' | 'timeout' | 'refused';

const produceQueueSources = new WeakMap<Registry, { read?: () => { queued: number; inFlight: number } | undefined }>();

/** Events waiting for Kafka (bounded by INGEST_PRODUCE_QUEUE_MAX) and in flight, read from the producer at scrape time. */
function produceQueueGauge(registry: Registry): { read?: () => { queued: number; inFlight: number } | undefined } {
  const existing = produceQueueSources.get(registry);
  if (existing) return existing;
  const source: { read?: () => { queued: number; inFlight: number } | undefined } = {};
  new Gauge({
    name: 'alertbus_ingest_produce_queue_events',
    help: 'Events accepted for writing and not yet acknowledged by Kafka: queued (waiting their turn) or in flight.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const b = source.read?.();
      if (!b) return;
      this.set({ state: 'queued' }, b.queued);
      this.set({ state: 'in_flight' }, b.inFlight);
    },
  });
  produceQueueSources.set(registry, source);
  return source;
}

const produceCallSources = new WeakMap<Registry, { read?: () => number | undefined }>();

/** Produce calls made so far, read from the producer at scrape time: fewer calls than requests means grouping works. */
function produceCallsCounter(registry: Registry): { read?: () => number | undefined } {
  const existing = produceCallSources.get(registry);
  if (existing) return existing;
  const source: { read?: () => number | undefined } = {};
  let reported = 0;
  new Counter({
    name: 'alertbus_ingest_produce_calls_total',
    help: 'Kafka produce calls made by the ingest producer (concurrent requests are grouped into one call).',
    registers: [registry],
    collect() {
      const now = source.read?.();
      if (now !== undefined && now > reported) {
        this.inc(now - reported);
        reported = now;
      }
    },
  });
  produceCallSources.set(registry, source);
  return source;
}

/** Ingest's own metrics, registered once per registry (building a second app on it reuses them). */
export function ingestMetrics(registry: Registry): IngestMetrics {
  const existing = <M>(name: string) => registry.getSingleMetric(name) as M | undefined;
  const produceSeconds =
    existing<Histogram<'outcome'>>('alertbus_ingest_produce_duration_seconds') ??
    new Histogram({
      name: 'alertbus_ingest_produce_duration_seconds',
      help: 'Time from handing a request\'s records to the producer until Kafka acknowledged them (or it failed).',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  const byOutcome = new Map<ProduceOutcome, { observe: (seconds: number) => void }>();
  const produceTook = (outcome: ProduceOutcome, seconds: number) => {
    let child = byOutcome.get(outcome);
    if (!child) byOutcome.set(outcome, (child = produceSeconds.labels({ outcome })));
    child.observe(seconds);
  };
  const bySource = new Map<AlertSource, { inc: (n: number) => void }>();
  const alertsAccepted =
    existing<Counter<'source'>>('alertbus_ingest_alerts_accepted_total') ??
    new Counter({
      name: 'alertbus_ingest_alerts_accepted_total',
      help: 'Alerts written to Kafka and acknowledged, by webhook source.',
      labelNames: ['source'],
      registers: [registry],
    });
  const acceptedFrom = (source: AlertSource, alerts: number) => {
    let child = bySource.get(source);
    if (!child) bySource.set(source, (child = alertsAccepted.labels({ source })));
    child.inc(alerts);
  };
  return {
    requests:
      existing<Counter<'route' | 'status'>>('alertbus_ingest_requests_total') ??
      new Counter({
        name: 'alertbus_ingest_requests_total',
        help: 'HTTP requests answered by ingest, by route and status code.',
        labelNames: ['route', 'status'],
        registers: [registry],
      }),
    alertsAccepted,
    produceSeconds,
    produceTook,
    acceptedFrom,
    produceCalls: produceCallsCounter(registry),
    produceRefused:
      existing<Counter<'reason'>>('alertbus_ingest_produce_refused_total') ??
      new Counter({
        name: 'alertbus_ingest_produce_refused_total',
        help: 'Requests answered 503 with nothing written: Kafka unreachable, producer not connected, queue full or queue timeout.',
        labelNames: ['reason'],
        registers: [registry],
      }),
    produceQueue: produceQueueGauge(registry),
  };
}

export interface SlackMetrics {
  /** Slack requests by endpoint and what became of them (accepted, own-message, ignored, url_verification, …). */
  requests: Counter<'endpoint' | 'outcome'>;
  /** app_rate_limited notices: Slack is dropping events for this workspace. */
  rateLimited: Counter<string>;
}

/** Metrics of the Slack endpoints, registered once per registry. */
export function slackMetrics(registry: Registry): SlackMetrics {
  const existing = <M>(name: string) => registry.getSingleMetric(name) as M | undefined;
  const bySource = new Map<AlertSource, { inc: (n: number) => void }>();
  const alertsAccepted =
    existing<Counter<'source'>>('alertbus_ingest_alerts_accepted_total') ??
    new Counter({
      name: 'alertbus_ingest_alerts_accepted_total',
      help: 'Alerts written to Kafka and acknowledged, by webhook source.',
      labelNames: ['source'],
      registers: [registry],
    });
  const acceptedFrom = (source: AlertSource, alerts: number) => {
    let child = bySource.get(source);
    if (!child) bySource.set(source, (child = alertsAccepted.labels({ source })));
    child.inc(alerts);
  };
  return {
    requests:
      existing<Counter<'endpoint' | 'outcome'>>('alertbus_ingest_slack_requests_total') ??
      new Counter({
        name: 'alertbus_ingest_slack_requests_total',
        help: 'Slack Events API and interactivity requests, by endpoint and outcome (accepted, own-message, ignored, rejected-signature, …).',
        labelNames: ['endpoint', 'outcome'],
        registers: [registry],
      }),
    rateLimited:
      existing<Counter<string>>('alertbus_ingest_slack_app_rate_limited_total') ??
      new Counter({
        name: 'alertbus_ingest_slack_app_rate_limited_total',
        help: 'app_rate_limited notices from Slack: it is not delivering this app\'s events for a minute.',
        registers: [registry],
      }),
  };
}
