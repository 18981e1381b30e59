/**
 * The replay's records read from Kafka and validated in a worker thread (replay-worker.ts), then parsed and projected
 * here and handed to `onBatch` one batch at a time, in the order the worker read them (each partition's batches in
 * offset order).
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AnyEnvelope, ValidationResult } from '@alertbus/schemas';
import type { OffsetRange } from '@alertbus/kafka';
import { keepableAsRecorded, project } from '../project';
import type { Projection } from '../types';
import type { ReplayWorkerData, ToReader, ToWorker, ValidatedBatch } from './replay-messages';

export interface PreparedRecord {
  topic: string;
  partition: number;
  offset: string;
  decoded: ValidationResult;
  projection?: Projection;
}

/** Batches read ahead of the one being applied. */
const AHEAD = 2;
/** Records parsed between two turns of the event loop, as prepareRecords (batch-apply.ts) does, for the same reason. */
const PREPARE_SLICE = 25;

/**
 * The worker's file beside this one: compiled JavaScript in the image (dist/); from the sources, TypeScript, which the
 * worker requires through tsx's hook (a worker thread does not inherit the `--import` that loads it in this one).
 */
function workerEntry(): { source: string; eval: boolean } {
  if (!__filename.endsWith('.ts')) return { source: join(__dirname, 'replay-worker.js'), eval: false };
  const file = JSON.stringify(join(__dirname, 'replay-worker.ts'));
  return { source: `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${file});`, eval: true };
}

/**
 * A worker thread that reads for the rebuild, started once (it loads while the rebuild schema is made) and used for
 * every range the rebuild reads. One read at a time.
 */
export class ReplayReader {
  private readonly worker: Worker;
  private current: { onMessage: (m: ToReader) => void; fail: (err: Error) => void } | null = null;
  private failure: Error | null = null;
  /** Reads done by this reader (each ended in the worker with every range covered). */
  reads = 0;

  constructor(brokers: readonly string[], maxBytesPerPartition: number) {
    const entry = workerEntry();
    const workerData: ReplayWorkerData = { brokers: [...brokers], maxBytesPerPartition, ahead: AHEAD };
    // This thread's environment as it is now (the topic names' prefix among it), not the one the process started with.
    this.worker = new Worker(entry.source, { eval: entry.eval, workerData, env: { ...process.env } });
    const fail = (err: Error) => {
      this.failure ??= err;
      this.current?.fail(err);
    };
    this.worker.on('message', (m: ToReader) => this.current?.onMessage(m));
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the rebuild's reading thread exited (code ${code})`)));
  }

  /** Reads the ranges; resolves when every range is covered and every batch was taken by onBatch. */
  read(
    ranges: OffsetRange[],
    onBatch: (topic: string, partition: number, records: PreparedRecord[]) => Promise<void>,
    onProgress?: (p: { covered: bigint; total: bigint }) => void,
  ): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.current) return Promise.reject(new Error('ReplayReader: one read at a time'));
    return new Promise<void>((resolve, reject) => {
      let ended = false;
      const end = (err?: Error) => {
        if (ended) return;
        ended = true;
        this.current = null;
        if (err) reject(err);
        else resolve();
      };
      // The messages one after the other: a batch is handed over once the one before it was taken.
      let chain = Promise.resolve();
      this.current = {
        fail: end,
        onMessage: (m) => {
          chain = chain
            .then(async () => {
              if (ended) return;
              if (m.kind === 'batch') {
                await onBatch(m.topic, m.partition, await prepareValidated(m));
                this.worker.postMessage({ kind: 'taken' } satisfies ToWorker);
              } else if (m.kind === 'progress') onProgress?.(m);
              else {
                this.reads += 1;
                end();
              }
            })
            .catch((err: unknown) => end(err instanceof Error ? err : new Error(String(err))));
        },
      };
      this.worker.postMessage({ kind: 'read', ranges } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * The worker's batch parsed and projected: the event of a record the worker found valid is its value parsed (the
 * schemas were checked there), projected as prepareRecords does; the others are set aside with the worker's reason.
 */
async function prepareValidated(batch: ValidatedBatch): Promise<PreparedRecord[]> {
  const { topic, partition, offsets, ends, errors } = batch;
  const values = Buffer.from(batch.values.buffer, batch.values.byteOffset, batch.values.byteLength);
  const out: PreparedRecord[] = new Array(offsets.length);
  let start = 0;
  for (let i = 0; i < offsets.length; i++) {
    if (i > 0 && i % PREPARE_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const offset = offsets[i]!;
    const end = ends[i]!;
    const value = end < 0 ? null : values.subarray(start, end);
    if (end >= 0) start = end;
    const error = errors[i];
    if (error !== null || value === null) {
      out[i] = { topic, partition, offset, decoded: { ok: false, error: error ?? 'record has no value' } };
      continue;
    }
    const event = JSON.parse(value.toString('utf8')) as AnyEnvelope;
    out[i] = { topic, partition, offset, decoded: { ok: true, event }, projection: project(event, { topic, partition, offset }, { keepable: keepableAsRecorded(value) }) };
  }
  return out;
}
