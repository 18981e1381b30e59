import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { chunkOutputs, isConcurrentTransactionsError, isFencedError, recordSize, retryConcurrentTransactions } from './transactional';

const protocolError = (type: string, code: number) =>
  new KafkaJSProtocolError({ name: 'KafkaJSProtocolError', type, code, retriable: true, message: `${type} from the broker` } as unknown as Error);

const concurrent = () => protocolError('CONCURRENT_TRANSACTIONS', 51);

describe('transaction error classification', () => {
  test('CONCURRENT_TRANSACTIONS is recognised, also when KafkaJS wrapped it after its own retries', () => {
    expect(isConcurrentTransactionsError(concurrent())).toBe(true);
    expect(isConcurrentTransactionsError(new KafkaJSNumberOfRetriesExceeded(concurrent(), { retryCount: 5, retryTime: 100 }))).toBe(true);
    expect(isConcurrentTransactionsError(protocolError('INVALID_TXN_STATE', 48))).toBe(false);
    expect(isConcurrentTransactionsError(new Error('boom'))).toBe(false);
    expect(isConcurrentTransactionsError(undefined)).toBe(false);
  });

  test('a fenced producer is recognised', () => {
    expect(isFencedError(protocolError('INVALID_PRODUCER_EPOCH', 47))).toBe(true);
    expect(isFencedError(protocolError('PRODUCER_FENCED', 90))).toBe(true);
    expect(isFencedError(concurrent())).toBe(false);
  });
});

describe('retryConcurrentTransactions', () => {
  test('retries while the coordinator answers CONCURRENT_TRANSACTIONS, then returns', async () => {
    let calls = 0;
    const retries: number[] = [];
    const result = await retryConcurrentTransactions(
      async () => {
        calls += 1;
        if (calls < 3) throw concurrent();
        return 'sent';
      },
      { backoffMs: 1, onRetry: (_e, attempt) => retries.push(attempt) },
    );
    expect(result).toBe('sent');
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  test('tries again every 20 ms, not later and later (the coordinator is done within milliseconds)', async () => {
    jest.useFakeTimers();
    try {
      let calls = 0;
      const result = retryConcurrentTransactions(async () => {
        calls += 1;
        if (calls < 4) throw concurrent();
        return 'sent';
      });
      for (const expected of [2, 3, 4]) {
        await jest.advanceTimersByTimeAsync(19);
        expect(calls).toBe(expected - 1);
        await jest.advanceTimersByTimeAsync(1);
        expect(calls).toBe(expected);
      }
      await expect(result).resolves.toBe('sent');
    } finally {
      jest.useRealTimers();
    }
  });

  test('gives up after the attempts, with the broker error', async () => {
    let calls = 0;
    await expect(
      retryConcurrentTransactions(
        async () => {
          calls += 1;
          throw concurrent();
        },
        { attempts: 4, backoffMs: 1 },
      ),
    ).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    expect(calls).toBe(4);
  });

  test('any other error is not retried here (the batch is aborted and decided again instead)', async () => {
    let calls = 0;
    await expect(
      retryConcurrentTransactions(async () => {
        calls += 1;
        throw protocolError('INVALID_TXN_STATE', 48);
      }),
    ).rejects.toMatchObject({ type: 'INVALID_TXN_STATE' });
    expect(calls).toBe(1);
  });
});

describe('chunkOutputs: a transaction\'s outputs in produce calls under the size and count bounds', () => {
  const msg = (key: string, bytes: number) => ({ key, value: 'x'.repeat(bytes) });
  const flat = (chunks: ReturnType<typeof chunkOutputs>) => chunks.flatMap((c) => c.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key}`)));

  test('every record once, each topic in its order, no call over the bounds', () => {
    const outputs = [
      { topic: 'a', messages: Array.from({ length: 25 }, (_, i) => msg(`a${i}`, 1_000)) },
      { topic: 'b', messages: Array.from({ length: 7 }, (_, i) => msg(`b${i}`, 3_000)) },
    ];
    const chunks = chunkOutputs(outputs, { maxBytes: 5_000, maxRecords: 3 });
    expect(flat(chunks)).toEqual(outputs.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key}`)));
    for (const c of chunks) {
      const messages = c.flatMap((t) => t.messages);
      expect(messages.length).toBeLessThanOrEqual(3);
      if (messages.length > 1) expect(messages.reduce((n, m) => n + recordSize(m), 0)).toBeLessThanOrEqual(5_000);
    }
    expect(chunks.length).toBeGreaterThan(9);
  });

  test('small outputs stay one call; a record over the bound goes alone; nothing to write is no call', () => {
    expect(chunkOutputs([{ topic: 'a', messages: [msg('1', 10), msg('2', 10)] }, { topic: 'b', messages: [msg('3', 10)] }], { maxBytes: 10_000, maxRecords: 100 })).toHaveLength(1);
    const big = chunkOutputs([{ topic: 'a', messages: [msg('1', 10), msg('2', 50_000), msg('3', 10)] }], { maxBytes: 10_000, maxRecords: 100 });
    expect(big.map((c) => c.flatMap((t) => t.messages.map((m) => m.key)))).toEqual([['1'], ['2'], ['3']]);
    expect(chunkOutputs([{ topic: 'a', messages: [] }], { maxBytes: 10, maxRecords: 10 })).toEqual([]);
  });
});
