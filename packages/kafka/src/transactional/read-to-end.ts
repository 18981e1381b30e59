import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, Transaction } from 'kafkajs';
import type { Logger } from 'pino';
import { infraBackoffMs, type InfraRetryPolicy } from '@alertbus/common';
import { ConsumeLoop } from '../consume-loop';
import type { ConsumedRecord } from '../records';
import { sleep, type FencingProducer } from './policy';

export const DEFAULT_MARKER_KEY = '__restore_marker__';

export interface ReadToEndOptions {
  kafka: Kafka;
  admin: Admin;
  /** The processor's group; the reader uses a throw-away group named after it. */
  groupId: string;
  log: Logger;
  /** Writes the markers (in their own transactions). */
  producer: FencingProducer;
  markerKey?: string;
  retry?: InfraRetryPolicy;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  timeoutMs?: number;
  /** Receives a function that aborts the read (the processor calls it on stop). */
  setCancel: (cancel: ((err: Error) => void) | null) => void;
}

/**
 * Reads committed records up to the partitions' current end. The end of a transactional topic is hard
 * to see from a consumer (commit markers take offsets, open transactions hold the stable offset back),
 * so a marker with a fresh nonce is written to each partition in its own transaction, and reading stops
 * at that marker. The caller holds the processor's lock, so no transaction of ours is open meanwhile.
 */
export async function readToEnd(
  opts: ReadToEndOptions,
  topic: string,
  partitions: number[],
  onRecord: (r: ConsumedRecord) => void,
): Promise<void> {
  if (partitions.length === 0) return;
  const markerKey = opts.markerKey ?? DEFAULT_MARKER_KEY;
  const nonce = randomUUID();
  await writeMarkers(opts, topic, partitions, markerKey, nonce);
  const groupId = `${opts.groupId}.restore.${nonce}`;
  const want = new Set(partitions);
  const done = new Set<number>();
  let finish: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const finished = new Promise<void>((resolve, reject) => (finish = { resolve, reject }));
  finished.catch(() => undefined);
  const reader: ConsumeLoop = new ConsumeLoop({
    kafka: opts.kafka,
    groupId,
    topics: [topic],
    log: opts.log,
    commit: 'none',
    retry: opts.retry,
    // Stops once at the markers, after the fetch in flight: a longer idle wait would only delay the restore.
    consumer: { sessionTimeout: opts.sessionTimeout ?? 30_000, heartbeatInterval: opts.heartbeatInterval ?? 1_000, readUncommitted: false, idleMaxWaitTimeInMs: 100 },
    positionOf: async (_t, partition) => (want.has(partition) && !done.has(partition) ? 'earliest' : 'park'),
    onHalt: (reason) => finish!.reject(new Error(reason)),
    handleBatch: async (batch) => {
      if (!want.has(batch.partition) || done.has(batch.partition)) return;
      for (const r of batch.records) {
        if (r.key === markerKey) {
          if (r.value?.toString('utf8').includes(nonce)) {
            done.add(batch.partition);
            reader.park(topic, batch.partition);
            break;
          }
          continue;
        }
        onRecord(r);
      }
      if (done.size === want.size) finish!.resolve();
    },
  });
  const timer = setTimeout(
    () => finish!.reject(new Error(`reading ${topic} to its end timed out (partitions ${[...want].filter((p) => !done.has(p)).join(',')})`)),
    opts.timeoutMs ?? 120_000,
  );
  try {
    opts.setCancel((err) => finish!.reject(err));
    await reader.start();
    await finished;
  } finally {
    clearTimeout(timer);
    opts.setCancel(null);
    await reader.stop();
    await opts.admin.deleteGroups([groupId]).catch(() => undefined);
  }
}

async function writeMarkers(opts: ReadToEndOptions, topic: string, partitions: number[], markerKey: string, nonce: string): Promise<void> {
  const messages = partitions.map((partition) => ({ partition, key: markerKey, value: JSON.stringify({ marker: nonce }) }));
  for (let attempt = 1; ; attempt++) {
    let tx: Transaction | undefined;
    try {
      const producer = await opts.producer.get();
      tx = await producer.transaction();
      await tx.send({ topic, messages, acks: -1 });
      await tx.commit();
      return;
    } catch (err) {
      // Writing the marker twice is harmless; only finding it matters. A failed commit may still land.
      if (tx?.isActive()) await tx.abort().catch(() => opts.producer.markBroken());
      else opts.producer.markBroken();
      // The load that asked for the markers is retried as a whole after this.
      if (attempt >= 8) throw err;
      opts.log.warn({ err, attempt }, 'writing restore markers failed; retrying');
      await sleep(infraBackoffMs(attempt, opts.retry));
    }
  }
}
