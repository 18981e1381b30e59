/** What the rebuild's worker thread (replay-worker.ts) and the thread applying its batches (replay-reader.ts) exchange. */
import type { OffsetRange } from '@alertbus/kafka';

export interface ReplayWorkerData {
  brokers: string[];
  maxBytesPerPartition: number;
  /** Batches the worker may post before the applying thread has taken the first of them. */
  ahead: number;
}

/**
 * One partition's batch, read and validated: the records' values one after the other in `values` (its memory moves
 * to the receiving thread, it is not copied), the end of each in `ends`; `errors[i]` says why record i is set aside
 * (not JSON, or not valid against its schema), null for a valid event; null values are tombstones.
 */
export interface ValidatedBatch {
  kind: 'batch';
  topic: string;
  partition: number;
  offsets: string[];
  values: Uint8Array;
  ends: Int32Array;
  errors: Array<string | null>;
}

export type ToReader = ValidatedBatch | { kind: 'progress'; covered: bigint; total: bigint } | { kind: 'done' };

export type ToWorker = { kind: 'read'; ranges: OffsetRange[] } | { kind: 'taken' };
