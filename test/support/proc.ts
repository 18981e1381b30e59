import { readdirSync, readFileSync } from 'node:fs';

/**
 * The fields of each thread's /proc/<pid>/task/<tid>/stat after "(comm)": [0] is the state letter (T: stopped),
 * [16] the niceness. Empty when the process is gone (or off Linux); a thread that ends meanwhile is left out.
 */
export function threadStats(pid: number): string[][] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const stats: string[][] = [];
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The comm may hold spaces and parentheses: the fields start after its last ")".
      stats.push(stat.slice(stat.lastIndexOf(')') + 2).split(' '));
    } catch {
      // That thread has ended.
    }
  }
  return stats;
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether the process is still running: alive, and not ended but waiting for its parent to reap it (state Z). */
export function running(pid: number): boolean {
  return alive(pid) && threadStats(pid)[0]?.[0] !== 'Z';
}
