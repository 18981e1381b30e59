import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { isConcurrentTransactionsError, isFencedError, retryConcurrentTransactions } from './transactional';

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
