import { readHistoryConfig } from './config';

const base = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/alertbus', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('HISTORY_FETCH_LINGER_MS', () => {
  it('gathers for 250 ms by default; 0 turns the gathering off', () => {
    expect(readHistoryConfig(base).fetchLingerMs).toBe(250);
    expect(readHistoryConfig({ ...base, HISTORY_FETCH_LINGER_MS: '0' }).fetchLingerMs).toBe(0);
    expect(readHistoryConfig({ ...base, HISTORY_FETCH_LINGER_MS: '1000' }).fetchLingerMs).toBe(1000);
  });

  it('refuses a value that is not a number of milliseconds up to 5 s', () => {
    expect(() => readHistoryConfig({ ...base, HISTORY_FETCH_LINGER_MS: '250ms' })).toThrow(/HISTORY_FETCH_LINGER_MS must be an integer/);
    expect(() => readHistoryConfig({ ...base, HISTORY_FETCH_LINGER_MS: '-1' })).toThrow(/HISTORY_FETCH_LINGER_MS must be ≥ 0/);
    expect(() => readHistoryConfig({ ...base, HISTORY_FETCH_LINGER_MS: '60000' })).toThrow(/HISTORY_FETCH_LINGER_MS must be ≤ 5000/);
  });
});
