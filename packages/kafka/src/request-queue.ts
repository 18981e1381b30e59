/**
 * KafkaJS 2.2.4's request queue (one per broker connection) re-arms a timer after every response even when nothing
 * waits: `throttledUntil - Date.now()` is negative, so the timer fires after 1 ms, finds nothing, and arms itself again.
 * Every connection of every client then wakes its process about a thousand times a second for nothing (KafkaJS
 * issue #1556, not fixed in a release). `quietRequestQueues()` arms that timer only while a request is waiting (for the
 * throttle to end, or for a free in-flight slot), as its own comment says it should; nothing else changes.
 */
import { createRequire } from 'node:module';

const kafkajsRequire = createRequire(require.resolve('kafkajs'));

/** What KafkaJS's RequestQueue keeps that the schedule reads and writes. */
interface QueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}

/** KafkaJS's pause between checks while a request waits and no throttle end is known (its CHECK_PENDING_REQUESTS_INTERVAL). */
export const CHECK_PENDING_MS = 10;

/** The timer, armed only while a request is waiting: at the throttle's end, else every CHECK_PENDING_MS. */
export function scheduleCheckPendingRequests(this: QueueState): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    throttled > 0 ? throttled : CHECK_PENDING_MS,
  );
}

let installed = false;

/**
 * Puts the schedule above on KafkaJS's RequestQueue for the whole process. Returns false, changing nothing, when the
 * queue is not where KafkaJS 2.2 keeps it or does not have the method.
 */
export function quietRequestQueues(): boolean {
  if (installed) return true;
  let RequestQueue: { prototype: Record<string, unknown> };
  try {
    RequestQueue = kafkajsRequire('./src/network/requestQueue') as { prototype: Record<string, unknown> };
  } catch {
    return false;
  }
  if (typeof RequestQueue?.prototype?.scheduleCheckPendingRequests !== 'function' || typeof RequestQueue.prototype.checkPendingRequests !== 'function') {
    return false;
  }
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  installed = true;
  return true;
}
