import { createLogger } from '@alertbus/common';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { slackRootCommand } from '../../../test/support/commands';
import type { LoopBatch } from './consume-loop';
import { eachRecord } from './each-record';
import type { ConsumedRecord } from './records';

const log = createLogger('each-record-test', 'silent');

/** A valid command of `alias` at `offset` of a command topic's partition 0 (its text is the offset). */
function record(offset: number, alias: string): ConsumedRecord {
  const event = slackRootCommand(alias, String(offset));
  return { topic: TOPICS.slackCommands, partition: 0, offset: String(offset), key: alias, timestamp: '0', headers: {}, value: Buffer.from(JSON.stringify(event)) };
}

function batchOf(records: ConsumedRecord[]): LoopBatch & { resolved: string[] } {
  const resolved: string[] = [];
  return {
    topic: TOPICS.slackCommands,
    partition: 0,
    fromOffset: records[0]!.offset,
    records,
    nextOffset: String(Number(records.at(-1)!.offset) + 1),
    highWatermark: String(Number(records.at(-1)!.offset) + 1),
    fetchedAt: 0,
    heartbeat: async () => undefined,
    isStale: () => false,
    resolve: (offset) => resolved.push(offset),
    seek: () => undefined,
    rewind: () => undefined,
    resolved,
  };
}

const noDeadLetters = { send: async () => [] } as never;

/** eachRecord over three chains at a time, with `handle`. */
const threeAtATime = (handle: (e: AnyEnvelope) => Promise<void | { retryInMs: number; reason: string }>, orderKeys?: (e: AnyEnvelope) => string[]) =>
  eachRecord({ groupId: 'g', log, producer: noDeadLetters, concurrency: 3, handle, ...(orderKeys ? { orderKeys } : {}) });
const offsetOf = (e: AnyEnvelope) => (e.data as { text: string }).text;

describe('eachRecord with several chains at a time', () => {
  // Offsets 0..5: aliases a b a c b c — chains a (0, 2), b (1, 4), c (3, 5).
  const records = ['a', 'b', 'a', 'c', 'b', 'c'].map((alias, offset) => record(offset, alias));

  test("records of one key are handled in order, and the partition moves past every record handled", async () => {
    const handled: string[] = [];
    const handle = threeAtATime(async (e) => void handled.push(offsetOf(e)));
    const batch = batchOf(records);
    expect(await handle(batch)).toBeUndefined();
    expect(handled.filter((o) => ['0', '2'].includes(o))).toEqual(['0', '2']);
    expect(handled.filter((o) => ['1', '4'].includes(o))).toEqual(['1', '4']);
    expect(handled.filter((o) => ['3', '5'].includes(o))).toEqual(['3', '5']);
    expect(batch.resolved).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  test('a record that comes back later holds back its own chain, and the partition moves only up to the record before it', async () => {
    const handled: string[] = [];
    const handle = threeAtATime(async (e) => {
      handled.push(offsetOf(e));
      return offsetOf(e) === '1' ? { retryInMs: 5_000, reason: 'rate limited' } : undefined;
    });
    const batch = batchOf(records);
    expect(await handle(batch)).toEqual({ retryInMs: 5_000, reason: 'rate limited' });
    expect(handled).not.toContain('4');
    expect(batch.resolved).toEqual(['0']);
  });

  test('a record whose handler throws is thrown for the batch, after the records before it were resolved', async () => {
    const handle = threeAtATime(async (e) => {
      if (offsetOf(e) === '3') throw new Error('connection refused');
    });
    const batch = batchOf(records);
    await expect(handle(batch)).rejects.toThrow('connection refused');
    // 0 and 1 began before 3 failed; 2 may have been handled too, and nothing from 3 on is resolved.
    expect(batch.resolved.slice(0, 2)).toEqual(['0', '1']);
    expect(batch.resolved.filter((o) => Number(o) >= 3)).toEqual([]);
  });

  test('records linked by another order key (one incident under two aliases) share a chain', async () => {
    const handled: string[] = [];
    let inFlight = 0;
    let most = 0;
    const handle = threeAtATime(
      async (e) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((r) => setImmediate(r));
        handled.push(offsetOf(e));
        inFlight -= 1;
      },
      (e) => [e.alias === 'b' ? 'a' : e.alias],
    );
    await handle(batchOf(records));
    // a and b are one chain (0 1 2 4), c another (3 5).
    expect(handled.filter((o) => ['0', '1', '2', '4'].includes(o))).toEqual(['0', '1', '2', '4']);
    expect(most).toBe(2);
  });
});
