/**
 * `npm start -- --scale router=3,slack-sink=2`: how many instances of each service run, and what makes each
 * one distinct — its process name, its instance id (ROUTER_INSTANCE_ID for routers, whose Kafka
 * transactionalId must differ; ALERTBUS_INSTANCE_ID for every instance's logs and metrics). Ports are the
 * caller's: they depend on what is free on the machine.
 */
import { isServiceName, SERVICES, type ServiceDef, type ServiceName } from './services';

/** More instances than this is a typo: a keyed topic has 6 partitions, so most of them would sit idle. */
export const MAX_INSTANCES = 16;

export class ScaleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScaleError';
  }
}

/** Parses `router=3,slack-sink=2` (each service at most once); services not named run once. */
export function parseScale(spec: string): Map<ServiceName, number> {
  const out = new Map<ServiceName, number>();
  const names = SERVICES.map((s) => s.name).join(', ');
  for (const part of spec.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^([^=\s]+)\s*=\s*(\S*)$/.exec(part);
    if (!m) throw new ScaleError(`--scale: "${part}" is not <service>=<count> (e.g. router=3,slack-sink=2)`);
    const [, name, count] = m as unknown as [string, string, string];
    if (!isServiceName(name)) throw new ScaleError(`--scale: no service called "${name}"; the services are ${names}`);
    if (out.has(name)) throw new ScaleError(`--scale: ${name} is named twice`);
    if (!/^\d+$/.test(count) || Number(count) < 1 || Number(count) > MAX_INSTANCES) {
      throw new ScaleError(`--scale: the count of ${name} must be a whole number from 1 to ${MAX_INSTANCES}, got "${count}"`);
    }
    out.set(name, Number(count));
  }
  if (out.size === 0) throw new ScaleError('--scale: name at least one <service>=<count> (e.g. router=3)');
  return out;
}

export interface ServiceInstance {
  def: ServiceDef;
  /** 0-based, stable: the same instance gets the same index on every start. */
  index: number;
  /** How many instances of this service run. */
  count: number;
  /** The process name in the Supervisor and in the output prefix: `router` alone, `router-1` among several. */
  name: string;
  /** What this instance's environment adds: its instance ids (none when the service runs once). */
  env: NodeJS.ProcessEnv;
}

/** Every instance to run, service by service in the table's order (ingest last). */
export function serviceInstances(scale: ReadonlyMap<ServiceName, number> = new Map()): ServiceInstance[] {
  return SERVICES.flatMap((def) => {
    const count = scale.get(def.name as ServiceName) ?? 1;
    return Array.from({ length: count }, (_, index) => ({
      def,
      index,
      count,
      name: count === 1 ? def.name : `${def.name}-${index}`,
      env:
        count === 1
          ? {}
          : { ALERTBUS_INSTANCE_ID: String(index), ...(def.name === 'router' ? { ROUTER_INSTANCE_ID: String(index) } : {}) },
    }));
  });
}
