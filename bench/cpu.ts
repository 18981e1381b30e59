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
