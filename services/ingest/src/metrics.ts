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
  /** Alerts a sender said it left out of a group it sent (Alertmanager's and Grafana's `truncatedAlerts`), by source. */
  alertsTruncated: Counter<'source'>;
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

const slackSocketSources = new WeakMap<Registry, { read?: () => number }>();

/** Whether the Slack Socket Mode connection is open (1) or not (0), read at scrape time; absent without SLACK_APP_TOKEN. */
export function slackSocketGauge(registry: Registry): { read?: () => number } {
  const existing = slackSocketSources.get(registry);
  if (existing) return existing;
  const source: { read?: () => number } = {};
  new Gauge({
    name: 'alertbus_ingest_slack_socket_connected',
    help: 'Whether the Slack Socket Mode connection is open (1) or not (0): while it is not, Slack events and clicks wait at Slack. Not part of /readyz, which webhooks depend on.',
    registers: [registry],
    collect() {
      const v = source.read?.();
      if (v !== undefined) this.set(v);
    },
  });
  slackSocketSources.set(registry, source);
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

/** A counter of the registry, registered once (building a second app on the registry reuses it). */
function counterOf<L extends string>(registry: Registry, name: string, help: string, labelNames: L[] = []): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

/**
 * The labelled child of each value of one label, made on first use and then looked up by the value: a label set
 * hashed per request cost more than the count itself at thousands of requests a second.
 */
function childPer<V, C>(make: (value: V) => C): (value: V) => C {
  const made = new Map<V, C>();
  return (value) => {
    let child = made.get(value);
    if (!child) made.set(value, (child = make(value)));
    return child;
  };
}

/** Ingest's own metrics, registered once per registry (building a second app on it reuses them). */
export function ingestMetrics(registry: Registry): IngestMetrics {
  const produceSeconds =
    (registry.getSingleMetric('alertbus_ingest_produce_duration_seconds') as Histogram<'outcome'> | undefined) ??
    new Histogram({
      name: 'alertbus_ingest_produce_duration_seconds',
      help: 'Time from handing a request\'s records to the producer until Kafka acknowledged them (or it failed).',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
  const alertsAccepted = counterOf(registry, 'alertbus_ingest_alerts_accepted_total', 'Alerts written to Kafka and acknowledged, by webhook source.', ['source']);
  const byOutcome = childPer((outcome: ProduceOutcome) => produceSeconds.labels({ outcome }));
  const bySource = childPer((source: AlertSource) => alertsAccepted.labels({ source }));
  return {
    requests: counterOf(registry, 'alertbus_ingest_requests_total', 'HTTP requests answered by ingest, by route and status code.', ['route', 'status']),
    alertsAccepted,
    produceSeconds,
    produceTook: (outcome, seconds) => byOutcome(outcome).observe(seconds),
    acceptedFrom: (source, alerts) => bySource(source).inc(alerts),
    alertsTruncated: counterOf(
      registry,
      'alertbus_ingest_alerts_truncated_total',
      'Alerts the sender left out of the groups it sent (truncatedAlerts: Alertmanager\'s max_alerts): never received, so never routed.',
      ['source'],
    ),
    produceCalls: produceCallsCounter(registry),
    produceRefused: counterOf(
      registry,
      'alertbus_ingest_produce_refused_total',
      'Requests answered 503 with nothing written: Kafka unreachable, producer not connected, queue full or queue timeout.',
      ['reason'],
    ),
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
  return {
    requests: counterOf(
      registry,
      'alertbus_ingest_slack_requests_total',
      'Slack Events API and interactivity requests, by endpoint and outcome (accepted, own-message, ignored, rejected-signature, …).',
      ['endpoint', 'outcome'],
    ),
    rateLimited: counterOf(
      registry,
      'alertbus_ingest_slack_app_rate_limited_total',
      'app_rate_limited notices from Slack: it is not delivering this app\'s events for a minute.',
    ),
  };
}
