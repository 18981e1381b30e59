/**
 * The rebuild's reading half in a worker thread: fetches ranges from Kafka, decodes the records and validates each
 * event against its schema, and posts every partition's batch to the thread that projects and applies it
 * (replay-reader.ts). KafkaJS' decoding and the schema checks were a quarter of the replay's CPU on the thread that
 * also writes to Postgres, and KafkaJS fetched the next batches only once those of the last fetch were applied:
 * here both run on another core, ahead of the writes. The values cross as bytes (moved, not copied); the
 * applying thread parses them again, which is cheaper than copying the parsed objects across.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createKafka, readRanges, type OffsetRange } from '@alertbus/kafka';
import { decodeEnvelope } from '@alertbus/schemas';
import type { ReplayWorkerData, ToReader, ToWorker, ValidatedBatch } from './replay-messages';

const data = workerData as ReplayWorkerData;
const port = parentPort!;
const kafka = createKafka({ brokers: data.brokers, clientId: 'alertbus-history-rebuild' });
// Batches posted and not yet taken by the applying thread: reading waits while `ahead` of them are.
let posted = 0;
let taken = 0;
let wake: (() => void) | null = null;
const post = (m: ToReader, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', (m: ToWorker) => {
  if (m.kind === 'taken') {
    taken += 1;
    wake?.();
    wake = null;
  } else {
    read(m.ranges).then(
      () => post({ kind: 'done' }),
      (err: unknown) =>
        // Thrown out of the worker, the error reaches the applying thread as the Worker's 'error' event.
        setImmediate(() => {
          throw err;
        }),
    );
  }
});

async function read(ranges: OffsetRange[]): Promise<void> {
  await readRanges({
    kafka,
    ranges,
    maxBytesPerPartition: data.maxBytesPerPartition,
    onProgress: (p) => post({ kind: 'progress', covered: p.covered, total: p.total }),
    onBatch: async (batch) => {
      const { records } = batch;
      let size = 0;
      for (const r of records) size += r.value?.length ?? 0;
      const values = new Uint8Array(size);
      const ends = new Int32Array(records.length);
      const offsets: string[] = new Array(records.length);
      const errors: Array<string | null> = new Array(records.length);
      let at = 0;
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const decoded = decodeEnvelope(r.value, r.topic);
        errors[i] = decoded.ok ? null : decoded.error;
        offsets[i] = r.offset;
        if (r.value !== null) {
          values.set(r.value, at);
          at += r.value.length;
          ends[i] = at;
        } else ends[i] = -1;
      }
      while (posted - taken >= data.ahead) {
        await new Promise<void>((resolve) => (wake = resolve));
        await batch.heartbeat();
      }
      const message: ValidatedBatch = { kind: 'batch', topic: batch.topic, partition: batch.partition, offsets, values, ends, errors };
      post(message, [values.buffer as ArrayBuffer]);
      posted += 1;
    },
  });
}
