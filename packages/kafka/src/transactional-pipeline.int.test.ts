/**
 * Pipelined turns in the transactional processor (`pipelineDepth` 2, and 4), on the real broker: a partition's next batch is
 * fetched and decided on the previous one's uncommitted state while that one's transaction is still open.
 *
 * The handler is a sequencer: each record's output carries its rank in its partition (1, 2, 3, …), counted on the
 * state the batch was decided on. Any uncommitted state that leaked (a batch decided on an aborted one and committed
 * anyway, undos run in the wrong order, state restored from an aborted transaction) shows as a gap or a repeat of the
 * ranks; a record lost or written twice shows in the multiset of outputs.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { createLogger } from '@alertbus/common';
import { TOPIC_PREFIX } from '@alertbus/schemas';
import { testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { ensureTopics } from './admin';
import { ConsumeLoop } from './consume-loop';
import { TransactionalProcessor, type BatchWork } from './transactional';

const log = createLogger('transactional-pipeline-test', process.env.LOOP_TEST_LOG ?? 'silent');
const MARKER = '__pipeline_marker__';

let kafka: Kafka;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kafka = await testKafka('transactional-pipeline-test');
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function topics(partitions: number): Promise<{ input: string; output: string }> {
  const id = randomUUID().slice(0, 8);
  const input = `${TOPIC_PREFIX}txpipe.in.${id}`;
  const output = `${TOPIC_PREFIX}txpipe.out.${id}`;
  await ensureTopics(kafka, [
    { name: input, partitions, cleanupPolicy: 'delete', retentionMs: -1 },
    { name: output, partitions, cleanupPolicy: 'delete', retentionMs: -1 },
  ]);
  return { input, output };
}

/** Writes `count` records over `partitions`, one every `everyMs`, so they come in many small batches. */
async function trickle(input: string, partitions: number, count: number, everyMs: number, from = 0): Promise<string[]> {
  const values: string[] = [];
  const p = kafka.producer();
  await p.connect();
  try {
    for (let i = from; i < from + count; i++) {
      const partition = i % partitions;
      const value = `p${partition}-${i}`;
      values.push(value);
      await p.send({ topic: input, acks: -1, messages: [{ partition, value }] });
      await sleep(everyMs);
    }
  } finally {
    await p.disconnect();
  }
  return values;
}

/**
 * Every committed record of the output topic (markers left out), by a read_committed consumer of its own; or, with
 * `uncommitted`, every record written, open and aborted transactions' too.
 */
function readCommitted(output: string, uncommitted = false): Array<{ partition: number; value: string }> {
  const seen: Array<{ partition: number; value: string }> = [];
  const loop = new ConsumeLoop({
    kafka,
    groupId: `${TOPIC_PREFIX}txpipe-reader-${randomUUID().slice(0, 8)}`,
    topics: [output],
    log,
    commit: 'none',
    consumer: { readUncommitted: uncommitted, maxWaitTimeInMs: 100 },
    handleBatch: async (batch) => {
      for (const r of batch.records) if (r.key !== MARKER) seen.push({ partition: batch.partition, value: r.value!.toString() });
    },
  });
  void loop.start();
  stops.push(() => loop.stop());
  return seen;
}

interface Probe {
  /** Batches decided and not yet committed or aborted, now and at most. */
  open: number;
  maxOpen: number;
  /** Ids of aborted batches, in the order their onAbort ran. */
  aborts: number[];
  /** Batches whose onCommit and onAbort both ran (each must get one or the other, once). */
  both?: number[];
  /** Called with each batch's input values as it is decided. */
  decided?: (values: string[]) => void;
  /** What the processor did, in order (decisions with their inputs' offsets, commits, aborts, loads), for a failure's message. */
  trace?: string[];
}

/**
 * A sequencer over the output topic: its state per partition is the number of records decided there (restored on
 * assignment by counting the committed outputs); decisions see the uncommitted batches before them.
 */
function sequencer(output: string, probe: Probe) {
  const ranks = new Map<number, number>();
  let ids = 0;
  return {
    onAssigned: async (partitions: number[], ctx: { readToEnd: TransactionalProcessorCtx['readToEnd'] }) => {
      const counted = new Map<number, number>(partitions.map((p) => [p, 0]));
      await ctx.readToEnd(output, partitions, (r) => counted.set(r.partition, (counted.get(r.partition) ?? 0) + 1));
      ranks.clear();
      for (const [p, n] of counted) ranks.set(p, n);
      probe.trace?.push(`${Date.now() % 100_000} assigned ${JSON.stringify([...counted])}`);
    },
    handleBatch: (records: Array<{ value: Buffer | null; offset: string }>, partition: number): BatchWork => {
      const id = ++ids;
      probe.decided?.(records.map((r) => r.value!.toString()));
      const at = (k: number) => `${records[k]!.offset}:${records[k]!.value!.toString()}`;
      probe.trace?.push(`${Date.now() % 100_000} decide ${id} p${partition} ${at(0)}..${at(records.length - 1)} from rank ${ranks.get(partition) ?? 0}`);
      const before = ranks.get(partition) ?? 0;
      let rank = before;
      let settled: 'commit' | 'abort' | null = null;
      const settle = (how: 'commit' | 'abort') => {
        if (settled) (probe.both ??= []).push(id);
        settled = how;
      };
      // Inputs starting with "quiet" write nothing (as the router's ignored inputs).
      const messages = records.filter((r) => !r.value!.toString().startsWith('quiet')).map((r) => ({ partition, value: `${r.value!.toString()}#${++rank}` }));
      ranks.set(partition, rank);
      probe.open += 1;
      probe.maxOpen = Math.max(probe.maxOpen, probe.open);
      return {
        outputs: [{ topic: output, messages }],
        onCommit: () => {
          settle('commit');
          probe.open -= 1;
          probe.trace?.push(`${Date.now() % 100_000} commit ${id}`);
        },
        onAbort: () => {
          settle('abort');
          probe.open -= 1;
          probe.aborts.push(id);
          probe.trace?.push(`${Date.now() % 100_000} abort ${id}`);
          // Right only when the batches decided after this one were undone first.
          ranks.set(partition, before);
        },
      };
    },
  };
}
type TransactionalProcessorCtx = Parameters<NonNullable<ConstructorParameters<typeof TransactionalProcessor>[0]['onAssigned']>>[1];

/** Each input's output once, and each partition's ranks 1..n in the order of its inputs. */
function expectExactlyOnceInOrder(values: string[], seen: Array<{ partition: number; value: string }>): void {
  const inputs = seen.map((s) => s.value.split('#')[0]!);
  expect([...inputs].sort()).toEqual([...values].sort());
  const byPartition = new Map<number, string[]>();
  for (const s of seen) byPartition.set(s.partition, [...(byPartition.get(s.partition) ?? []), s.value]);
  for (const [partition, outs] of byPartition) {
    expect(outs.map((o) => Number(o.split('#')[1]))).toEqual(outs.map((_, k) => k + 1));
    // In the order the inputs were written to the partition.
    const order = values.filter((v) => v.startsWith(`p${partition}-`));
    expect(outs.map((o) => o.split('#')[0])).toEqual(order);
  }
}

function processor(
  input: string,
  output: string,
  probe: Probe,
  extra: { groupId: string; beforeCommit: () => Promise<void>; pipelineDepth?: number; quietCommitDelayMs?: number; transactionTimeout?: number },
): TransactionalProcessor {
  const seq = sequencer(output, probe);
  const p = new TransactionalProcessor({
    kafka,
    groupId: extra.groupId,
    topic: input,
    transactionalId: `${TOPIC_PREFIX}txpipe-${randomUUID().slice(0, 8)}`,
    log,
    markerKey: MARKER,
    pipelineDepth: extra.pipelineDepth ?? 2,
    partitionsConcurrently: 2,
    sessionTimeout: 10_000,
    retry: { minBackoffMs: 50, maxBackoffMs: 400 },
    fetch: { lingerMs: 20 },
    handleBatch: (records, partition) => seq.handleBatch(records, partition),
    onAssigned: (partitions, ctx) => seq.onAssigned(partitions, ctx),
    beforeCommit: extra.beforeCommit,
    ...(extra.quietCommitDelayMs !== undefined ? { quietCommitDelayMs: extra.quietCommitDelayMs } : {}),
    ...(extra.transactionTimeout !== undefined ? { transactionTimeout: extra.transactionTimeout } : {}),
  });
  stops.push(() => p.stop());
  return p;
}

/**
 * `depth` batches of one partition in flight, the first transaction held open until the others were decided on it, then
 * failed: every one of them is undone, newest first, and each input comes out once, in order.
 */
async function failTheFirstOf(depth: number, records: number): Promise<void> {
  const { input, output } = await topics(1);
  const probe: Probe = { open: 0, maxOpen: 0, aborts: [] };
  let failed = 0;
  const p = processor(input, output, probe, {
    groupId: `${TOPIC_PREFIX}txpipe-${randomUUID().slice(0, 8)}`,
    pipelineDepth: depth,
    beforeCommit: async () => {
      // Hold the transaction open until the partition's next batches were decided on its uncommitted state.
      const until = Date.now() + 5_000;
      while (failed === 0 && probe.open < depth && Date.now() < until) await sleep(10);
      if (failed === 0 && probe.open >= depth) {
        failed += 1;
        throw new Error(`injected: the first of ${depth} pipelined transactions fails`);
      }
    },
  });
  await p.start();
  const seen = readCommitted(output);
  const values = await trickle(input, 1, records, 15);
  await waitFor(() => seen.length >= values.length, { timeoutMs: 90_000, what: 'every output committed' });
  await sleep(1_000);
  expect(failed).toBe(1);
  // Never more than the depth in flight.
  expect(probe.maxOpen).toBe(depth);
  // The one failure aborted the batches decided on top of the failed one too, and undid them first (newest first).
  expect(probe.aborts.length).toBeGreaterThanOrEqual(depth);
  expect([...probe.aborts].sort((x, y) => y - x)).toEqual(probe.aborts);
  expectExactlyOnceInOrder(values, seen);
}

test('two batches of a partition in flight and the first transaction fails: the second is undone first and both come again, once each', async () => {
  await failTheFirstOf(2, 30);
});

test('four batches of a partition in flight (depth 4) and the first transaction fails: all are undone newest first and come again, once each', async () => {
  await failTheFirstOf(4, 40);
});

test('a rebalance while batches are in flight: nothing uncommitted reaches the next owner, every output once', async () => {
  const { input, output } = await topics(2);
  const groupId = `${TOPIC_PREFIX}txpipe-${randomUUID().slice(0, 8)}`;
  const first: Probe = { open: 0, maxOpen: 0, aborts: [], trace: [] };
  const second: Probe = { open: 0, maxOpen: 0, aborts: [], trace: [] };
  // Transactions held open a while: the rebalance lands with batches decided and not committed.
  const slow = async () => {
    await sleep(60);
  };
  const a = processor(input, output, first, { groupId, beforeCommit: slow });
  await a.start();
  const seen = readCommitted(output);
  const written = readCommitted(output, true);
  const writing = trickle(input, 2, 80, 15);
  await waitFor(() => first.maxOpen >= 2, { timeoutMs: 30_000, what: 'two batches in flight' });
  const b = processor(input, output, second, { groupId, beforeCommit: slow });
  await b.start();
  const values = await writing;
  await waitFor(() => seen.length >= values.length, { timeoutMs: 60_000, what: 'every output committed' }).catch(async (err: Error) => {
    const admin = kafka.admin();
    await admin.connect();
    const committed = await admin.fetchOffsets({ groupId, topics: [input] }).finally(() => admin.disconnect());
    const outs = seen.map((s) => s.value).sort();
    const missing = values.filter((v) => !outs.some((o) => o.startsWith(`${v}#`)));
    const writtenOf = written.filter((w) => missing.some((m) => w.value.startsWith(`${m}#`))).map((w) => w.value);
    throw new Error(
      `${err.message}; seen ${outs.length}: ${outs.join(' ')}; missing: ${missing.join(' ')}; of those written (committed or not): ${writtenOf.join(' ')}; ` +
        `committed ${JSON.stringify(committed[0]?.partitions)}; first: ${first.trace!.join(', ')}; second: ${second.trace!.join(', ')}`,
    );
  });
  await sleep(1_500);
  expect(first.maxOpen).toBeGreaterThanOrEqual(2);
  // A batch's transaction commits it or not: its onCommit or its onAbort runs, never both.
  expect([first.both ?? [], second.both ?? []]).toEqual([[], []]);
  expectExactlyOnceInOrder(values, seen);
});

test('a rebalance while a transaction commits and a later batch of its partition waits: only the waiting one is undone, the committing one commits', async () => {
  const { input, output } = await topics(1);
  const groupId = `${TOPIC_PREFIX}txpipe-${randomUUID().slice(0, 8)}`;
  const first: Probe = { open: 0, maxOpen: 0, aborts: [], trace: [] };
  const second: Probe = { open: 0, maxOpen: 0, aborts: [], trace: [] };
  let calls = 0;
  let holding = false;
  let released = false;
  const a = processor(input, output, first, {
    groupId,
    pipelineDepth: 4,
    // A batch that writes nothing waits this long for company before it commits.
    quietCommitDelayMs: 60_000,
    // The held transaction must outlast the hold on a slow machine (the broker would abort it at its timeout).
    transactionTimeout: 120_000,
    beforeCommit: async () => {
      if (++calls !== 1) return;
      // The first transaction, its records and offsets sent, held before its commit, while the partition's next batch,
      // which writes nothing, is decided on it and waits for company.
      holding = true;
      await waitFor(() => first.open >= 2, { timeoutMs: 30_000, what: 'the quiet batch decided on the held one' });
      // Another member joins: the group rebalances. The waiting batch is undone (the next owner reads it again); the
      // held transaction, its records all sent before the rebalance began, may still commit, and does.
      await processor(input, output, second, { groupId, beforeCommit: async () => undefined }).start();
      await waitFor(() => first.aborts.length > 0, { timeoutMs: 60_000, what: 'the waiting batch undone' });
      released = true;
    },
  });
  await a.start();
  const seen = readCommitted(output);
  const values = await trickle(input, 1, 1, 0);
  await waitFor(() => holding, { timeoutMs: 30_000, what: 'the first transaction held' });
  const quiet = kafka.producer();
  await quiet.connect();
  await quiet.send({ topic: input, acks: -1, messages: [{ partition: 0, value: 'quiet-1' }] });
  await quiet.disconnect();
  await waitFor(() => released, { timeoutMs: 90_000, what: 'the first transaction released' });
  values.push(...(await trickle(input, 1, 20, 15, 2)));
  await waitFor(() => seen.length >= values.length, { timeoutMs: 90_000, what: 'every output committed' }).catch((err: Error) => {
    throw new Error(`${err.message}; seen ${seen.length}; first: ${first.trace!.join(', ')}; second: ${second.trace!.join(', ')}`);
  });
  await sleep(1_000);
  // The held transaction's batch (the first decided) committed; the waiting quiet one was undone.
  expect(first.aborts).not.toContain(1);
  expect(first.aborts).toContain(2);
  expect([first.both ?? [], second.both ?? []]).toEqual([[], []]);
  expectExactlyOnceInOrder(values, seen);
});

/**
 * Two transactions open at once: the first (one record) held open before its commit until a read_uncommitted reader sees
 * records of the second written to the same partition (the other inputs are written once the hold began, so none is in
 * the first). Returns what the hold saw.
 */
async function overlapTheFirstTwo(fail: boolean): Promise<{ overlapped: boolean; committedDuringHold: number; probe: Probe; failed: number; values: string[]; seen: Array<{ partition: number; value: string }> }> {
  const { input, output } = await topics(1);
  let holding = false;
  const afterHold = new Set<string>();
  const probe: Probe = { open: 0, maxOpen: 0, aborts: [], decided: (values) => holding && values.forEach((v) => afterHold.add(v)) };
  let calls = 0;
  let failed = 0;
  let overlapped = false;
  let committedDuringHold = -1;
  let seen: Array<{ partition: number; value: string }> = [];
  let written: Array<{ partition: number; value: string }> = [];
  const p = processor(input, output, probe, {
    groupId: `${TOPIC_PREFIX}txpipe-${randomUUID().slice(0, 8)}`,
    pipelineDepth: 4,
    beforeCommit: async () => {
      if (++calls !== 1) return;
      holding = true;
      const until = Date.now() + 60_000;
      while (!overlapped && Date.now() < until) {
        await sleep(10);
        overlapped = written.some((w) => afterHold.has(w.value.split('#')[0]!));
      }
      holding = false;
      // The second transaction's records are in the log, not yet readable committed: the first is still open.
      committedDuringHold = seen.length;
      if (fail) {
        failed += 1;
        throw new Error('injected: the first of two open transactions fails');
      }
    },
  });
  await p.start();
  seen = readCommitted(output);
  written = readCommitted(output, true);
  const values = await trickle(input, 1, 1, 0);
  await waitFor(() => holding, { timeoutMs: 60_000, what: 'the first transaction at its commit' });
  values.push(...(await trickle(input, 1, 29, 15, 1)));
  await waitFor(() => seen.length >= values.length, { timeoutMs: 90_000, what: 'every output committed' });
  await sleep(1_000);
  return { overlapped, committedDuringHold, probe, failed, values, seen };
}

test('two transactions open at once: the second writes its records while the first commits, and readers get them in order, once', async () => {
  const r = await overlapTheFirstTwo(false);
  expect(r.overlapped).toBe(true);
  expect(r.committedDuringHold).toBe(0);
  expect(r.probe.aborts).toEqual([]);
  expectExactlyOnceInOrder(r.values, r.seen);
});

test('the first of two open transactions fails: the second, its records written, is aborted with it, newest first, and every input comes out once, in order', async () => {
  const r = await overlapTheFirstTwo(true);
  expect(r.overlapped).toBe(true);
  expect(r.failed).toBe(1);
  // The first transaction's batch and the second's (at least one each), undone newest first.
  expect(r.probe.aborts.length).toBeGreaterThanOrEqual(2);
  expect([...r.probe.aborts].sort((x, y) => y - x)).toEqual(r.probe.aborts);
  expectExactlyOnceInOrder(r.values, r.seen);
});
