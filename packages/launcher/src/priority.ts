/**
 * `ALERTBUS_NICE`: the CPU priority each service's process runs at, as niceness added to the launcher's own
 * (`history=10,router=5`; `off` for none). On a machine with fewer cores than busy processes the scheduler gives
 * each an equal share; a niced service gets less of it only while others want the CPU, and all it can use when
 * they do not. Which services to nice by default was measured (bench/README.md, "Thirteenth run — CPU priority").
 */
import { getPriority, setPriority } from 'node:os';
import { readdirSync } from 'node:fs';

/**
 * What `ALERTBUS_NICE` means when it is not set: ingest (and the broker and Postgres, which the launcher does not
 * start) first, then the router and the sinks, the history last. Measured against `off` on 2 cores: the whole stack's
 * intake 2–5 times as high, webhook → Slack at 300/s as fast or faster; a storm's history and Slack a few seconds later.
 */
export const DEFAULT_NICE = 'history=10,router=5,slack-sink=5,opsgenie-sink=5';

/** Niceness is 0 (the launcher's own priority) to 19; lower than the launcher's own would need privileges. */
export const MAX_NICE = 19;

export class NiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NiceError';
  }
}

/**
 * Parses `history=10,router=5` (each of `services` at most once; those not named keep the launcher's priority) or
 * `off`.
 */
export function parseNice(spec: string, services: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  if (/^\s*off\s*$/i.test(spec)) return out;
  const names = services.join(', ');
  for (const part of spec.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^([^=\s]+)\s*=\s*(\S*)$/.exec(part);
    if (!m) throw new NiceError(`ALERTBUS_NICE: "${part}" is not <service>=<niceness> (e.g. history=10), and not "off"`);
    const [, name, value] = m as unknown as [string, string, string];
    if (!services.includes(name)) throw new NiceError(`ALERTBUS_NICE: no service called "${name}"; the services are ${names}`);
    if (out.has(name)) throw new NiceError(`ALERTBUS_NICE: ${name} is named twice`);
    if (!/^\d+$/.test(value) || Number(value) > MAX_NICE) {
      throw new NiceError(`ALERTBUS_NICE: the niceness of ${name} must be a whole number from 0 to ${MAX_NICE}, got "${value}"`);
    }
    out.set(name, Number(value));
  }
  return out;
}

/**
 * Sets process `pid` to `nice` more than this process's own priority (at most 19). On Linux a priority belongs to
 * a thread and a thread starts with its creator's: every thread the process has so far is set, and those it starts
 * later inherit it. Returns false when the process is gone.
 */
export function reniceProcess(pid: number, nice: number): boolean {
  const priority = Math.min(getPriority() + nice, MAX_NICE);
  try {
    setPriority(pid, priority);
  } catch {
    return false;
  }
  let threads: string[] = [];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    // Not Linux (the priority is the whole process's), or it has just ended.
  }
  for (const tid of threads) {
    try {
      setPriority(Number(tid), priority);
    } catch {
      // That thread has ended.
    }
  }
  return true;
}
