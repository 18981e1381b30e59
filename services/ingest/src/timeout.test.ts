import { TimeoutError, withTimeout } from './timeout';

describe('withTimeout', () => {
  test('passes a settled value or error through', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000, 'x')).rejects.toThrow('boom');
  });

  test('rejects with a TimeoutError naming the wait when the promise never settles', async () => {
    const never = new Promise<void>(() => undefined);
    const err = await withTimeout(never, 20, 'the Kafka write').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('the Kafka write did not complete within 20 ms');
  });
});
