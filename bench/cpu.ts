/**
 * CPU time as the kernel counts it (/proc/<pid>/stat), for figures that a busy shared machine distorts less
 * than wall-clock time: a process waiting for a core is not charged for the wait.
 */
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** User + system CPU seconds a process has used, or null when it is gone (or not on Linux). */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of several processes together (those gone count nothing). */
export function processesCpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

/**
 * The CPU seconds of a database's Postgres backends (a local server), sampled: a backend that ends between
 * two samples is counted up to the last one, so the sum is a lower bound.
 */
export class BackendCpu {
  private readonly seen = new Map<number, number>();

  constructor(private readonly db: Client) {}

  async sample(): Promise<void> {
    const { rows } = await this.db.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    for (const { pid } of rows) {
      const s = cpuSeconds(pid);
      if (s !== null) this.seen.set(pid, Math.max(s, this.seen.get(pid) ?? 0));
    }
  }

  total(): number {
    let sum = 0;
    for (const s of this.seen.values()) sum += s;
    return sum;
  }
}

/** CPU seconds by process name (services, then `broker`) and of the Postgres backends (null: not counted), at one moment. */
export interface CpuSnapshot {
  byName: Map<string, number>;
  postgres: number | null;
}

/** A snapshot of each named group of processes, the broker (when it is a local process) and the database's backends. */
export async function processesSnapshot(
  services: ReadonlyArray<readonly [string, readonly number[]]>,
  brokerPid: number | undefined,
  backends: BackendCpu | null,
): Promise<CpuSnapshot> {
  const byName = new Map<string, number>();
  for (const [name, pids] of services) byName.set(name, processesCpuSeconds(pids));
  if (brokerPid !== undefined && brokerPid > 0) byName.set('broker', cpuSeconds(brokerPid) ?? 0);
  if (!backends) return { byName, postgres: null };
  await backends.sample();
  return { byName, postgres: backends.total() };
}

/** CPU milliseconds per unit (alert, second) of each process between two snapshots, and their sum: a figure a busy machine distorts little. */
export function cpuLine(before: CpuSnapshot, after: CpuSnapshot, units: number, unit: string): string {
  let total = 0;
  const used = [...after.byName].map(([name, s]) => [name, s - (before.byName.get(name) ?? 0)] as const);
  if (before.postgres !== null && after.postgres !== null) used.push(['postgres', after.postgres - before.postgres]);
  const parts = used.map(([name, s]) => {
    total += s;
    return `${name} ${((s * 1000) / units).toFixed(2)}`;
  });
  return `${((total * 1000) / units).toFixed(2)} ms per ${unit} (${parts.join(' · ')})`;
}
