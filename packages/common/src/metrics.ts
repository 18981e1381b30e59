import { Registry, collectDefaultMetrics, Counter, Histogram, Gauge } from 'prom-client';

export { Registry, Counter, Histogram, Gauge };

/**
 * One registry per service process, with Node's default metrics prefixed by the service name. Every series
 * carries `service`, and `instance_id` when ALERTBUS_INSTANCE_ID names the instance (several of one service).
 */
export function createRegistry(service: string, instanceId = process.env.ALERTBUS_INSTANCE_ID): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(instanceId ? { service, instance_id: instanceId } : { service });
  collectDefaultMetrics({ register: registry, prefix: 'alertbus_' });
  return registry;
}
