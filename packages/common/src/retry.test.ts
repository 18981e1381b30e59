import { ConfigError, envDuration } from './config';
import { DeliveryError } from './delivery';
import {
  backoffMs,
  DEFAULT_DELIVERY_RETRY,
  deliveryRetryFromEnv,
  infraRetryFromEnv,
  isInfrastructureError,
  planDeliveryRetry,
  untilReachable,
} from './retry';

const HOUR = 3_600_000;

describe('backoff with jitter', () => {
  test('doubles per attempt from the minimum, never exceeds the cap, and is at least half of its ceiling', () => {
    for (const [attempt, ceiling] of [
      [1, 500],
      [2, 1_000],
      [3, 2_000],
      [8, 60_000],
      [40, 60_000],
    ] as const) {
      expect(backoffMs(attempt, 500, 60_000, () => 0)).toBe(ceiling / 2);
      expect(backoffMs(attempt, 500, 60_000, () => 0.999999)).toBeLessThanOrEqual(ceiling);
      expect(backoffMs(attempt, 500, 60_000, () => 0.999999)).toBeGreaterThan(ceiling * 0.99);
    }
  });
});

describe('delivery retry plan', () => {
  const first = Date.parse('2026-11-22T08:00:00Z');

  test('a Retry-After far beyond a minute is waited out, not given up on', () => {
    const err = new DeliveryError('pager: HTTP 429', false, 429, 2 * HOUR);
    const plan = planDeliveryRetry(err, { attempt: 3, firstAttemptAtMs: first, nowMs: first + 60_000 }, DEFAULT_DELIVERY_RETRY);
    expect(plan).toEqual({ retry: true, waitMs: 2 * HOUR, atMs: first + 60_000 + 2 * HOUR });
  });

  test('without Retry-After the backoff is capped by DELIVERY_RETRY_MAX_BACKOFF_MS', () => {
    const err = new DeliveryError('pager: HTTP 503', false, 503);
    const plan = planDeliveryRetry(err, { attempt: 50, firstAttemptAtMs: first, nowMs: first + HOUR }, DEFAULT_DELIVERY_RETRY, () => 1);
    expect(plan).toMatchObject({ retry: true, waitMs: 60_000 });
  });

  test('gives up only when the next try would fall after the budget', () => {
    const err = new DeliveryError('pager: HTTP 503', false, 503, 10 * 60_000);
    const now = first + 24 * HOUR - 5 * 60_000;
    const plan = planDeliveryRetry(err, { attempt: 900, firstAttemptAtMs: first, nowMs: now }, DEFAULT_DELIVERY_RETRY);
    expect(plan.retry).toBe(false);
    expect(plan.retry === false && plan.reason).toMatch(/retry budget spent.*Retry-After 10m.*DELIVERY_RETRY_BUDGET \(1d\)/);
  });

  test('a permanent failure is not retried', () => {
    const plan = planDeliveryRetry(new DeliveryError('HTTP 422', true, 422), { attempt: 1, firstAttemptAtMs: first, nowMs: first });
    expect(plan).toEqual({ retry: false, reason: 'permanent failure' });
  });

  test('settings from the environment, durations in Alertmanager units', () => {
    expect(deliveryRetryFromEnv({ DELIVERY_RETRY_BUDGET: '90m', DELIVERY_RETRY_MAX_BACKOFF_MS: '1000', DELIVERY_RETRY_MIN_BACKOFF_MS: '10' })).toEqual({
      budgetMs: 90 * 60_000,
      minBackoffMs: 10,
      maxBackoffMs: 1_000,
    });
    expect(deliveryRetryFromEnv({})).toEqual(DEFAULT_DELIVERY_RETRY);
    expect(() => deliveryRetryFromEnv({ DELIVERY_RETRY_BUDGET: '24 hours' })).toThrow(/DELIVERY_RETRY_BUDGET must be a duration/);
    expect(() => infraRetryFromEnv({ INFRA_RETRY_MIN_BACKOFF_MS: '500', INFRA_RETRY_MAX_BACKOFF_MS: '100' })).toThrow(ConfigError);
    expect(envDuration({ X: '1h30m' }, 'X', 0)).toBe(90 * 60_000);
    expect(envDuration({ X: '500ms' }, 'X', 0)).toBe(500);
  });
});

describe('isInfrastructureError', () => {
  const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

  test.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset', withCode('ECONNRESET')],
    ['Postgres shutting down (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['a statement timeout (57014)', withCode('57014', 'canceling statement due to statement timeout')],
    ['a connection failure (08006)', withCode('08006')],
    ['node-postgres losing its connection', new Error('Connection terminated unexpectedly')],
    ['node-postgres connect timeout', new Error('timeout expired')],
    ['node-postgres query timeout', new Error('Query read timeout')],
    ['pg-pool: every client busy past the connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a primary demoted by a failover (25006)', withCode('25006', 'cannot execute INSERT in a read-only transaction')],
    ['a KafkaJS error', Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' })],
    ['a wrapped cause', Object.assign(new Error('outer'), { cause: withCode('ETIMEDOUT') })],
  ])('%s is infrastructure', (_what, err) => {
    expect(isInfrastructureError(err)).toBe(true);
  });

  test.each([
    ['a unique violation (23505)', withCode('23505')],
    ['invalid input (22P02)', withCode('22P02')],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['a Slack refusal', new DeliveryError('channel_not_found', true)],
  ])('%s is not', (_what, err) => {
    expect(isInfrastructureError(err)).toBe(false);
  });
});

describe('untilReachable: a start-up step that needs Kafka or Postgres', () => {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
  /** KafkaJS's shape when the seed broker never answered: a non-retriable error around the connection error. */
  const kafkaGaveUp = () => Object.assign(new Error('KafkaJSNonRetriableError'), { name: 'KafkaJSNonRetriableError', cause: refused() });
  function recorder() {
    const warned: Array<{ fields: Record<string, unknown>; msg: string }> = [];
    const waits: number[] = [];
    return {
      warned,
      waits,
      opts: {
        log: { warn: (fields: object, msg: string) => void warned.push({ fields: fields as Record<string, unknown>, msg }), info: () => undefined },
        policy: { minBackoffMs: 100, maxBackoffMs: 400 },
        sleep: async (ms: number) => void waits.push(ms),
      },
    };
  }

  test('waits out the server not being there yet, saying so each time, and goes on when it answers', async () => {
    const r = recorder();
    const failures = [kafkaGaveUp(), refused(), kafkaGaveUp(), refused()];
    let calls = 0;

    const value = await untilReachable('Kafka', async () => {
      calls++;
      const err = failures.shift();
      if (err) throw err;
      return 'topics';
    }, r.opts as never);

    expect({ value, calls }).toEqual({ value: 'topics', calls: 5 });
    expect(r.warned.map((w) => [w.msg, w.fields.attempt, w.fields.reason])).toEqual([
      ['Kafka not reachable yet: waiting for it', 1, 'connect ECONNREFUSED 127.0.0.1:9092'],
      ['Kafka not reachable yet: waiting for it', 2, 'connect ECONNREFUSED 127.0.0.1:9092'],
      ['Kafka not reachable yet: waiting for it', 3, 'connect ECONNREFUSED 127.0.0.1:9092'],
      ['Kafka not reachable yet: waiting for it', 4, 'connect ECONNREFUSED 127.0.0.1:9092'],
    ]);
    // The infrastructure back-off: doubling from the minimum to the cap, half of it random.
    expect(r.waits.every((ms, i) => ms >= Math.min(400, 100 * 2 ** i) / 2 && ms <= Math.min(400, 100 * 2 ** i))).toBe(true);
  });

  test.each([
    ['refused credentials', Object.assign(new Error('SASL PLAIN authentication failed'), { name: 'KafkaJSSASLAuthenticationError' })],
    ['a bad setting', new Error('orders.v1 has 3 partitions but alerts.v1 has 6')],
    ['Postgres refusing the password (28P01)', Object.assign(new Error('password authentication failed for user "alertbus"'), { code: '28P01' })],
  ])('does not wait for %s: thrown at once', async (_name, err) => {
    const r = recorder();
    let calls = 0;

    await expect(untilReachable('Kafka', async () => {
      calls++;
      throw err;
    }, r.opts as never)).rejects.toBe(err);

    expect({ calls, warned: r.warned.length }).toEqual({ calls: 1, warned: 0 });
  });
});
