import { Registry, collectDefaultMetrics, Counter, Histogram, Gauge } from 'prom-client';

export { Registry, Counter, Histogram, Gauge };

/**
 * How often Node's event-loop delay monitor (the `eventloop_lag_*` percentiles of the default metrics) looks at the
 * loop, in ms. prom-client's default is 10 ms: a timer a hundred times a second in every service, which wakes an idle
 * process 100 times a second (~5 ms of CPU a second each on this project's 2-core machine, and at 50 alerts/s two
 * wake-ups per alert in ingest: bench/README.md, "Eighteenth run — ingest at 50 alerts/s"). At 100 ms a stall of
 * 100 ms or more, the scale of the latency targets, is still always seen; a shorter one is seen in proportion.
 */
export const EVENT_LOOP_MONITOR_RESOLUTION_MS = 100;

/**
 * One registry per service process, with Node's default metrics prefixed by the service name. Every series
 * carries `service`, and `instance_id` when ALERTBUS_INSTANCE_ID names the instance (several of one service).
 */
export function createRegistry(service: string, instanceId = process.env.ALERTBUS_INSTANCE_ID): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(instanceId ? { service, instance_id: instanceId } : { service });
  collectDefaultMetrics({ register: registry, prefix: 'alertbus_', eventLoopMonitoringPrecision: EVENT_LOOP_MONITOR_RESOLUTION_MS });
  return registry;
}
