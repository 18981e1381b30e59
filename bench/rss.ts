/** Resident memory of a process, as the kernel reports it (VmRSS in /proc/<pid>/status). */
import { readFileSync } from 'node:fs';

/** VmRSS of a process in MB, or null when it is gone (or not on Linux). */
export function rssMb(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}
