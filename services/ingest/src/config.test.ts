import { ConfigError } from '@alertbus/common';
import { loadConfig } from './config';

describe('loadConfig', () => {
  test('defaults', () => {
    expect(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092' })).toEqual({
      port: 8080,
      host: '0.0.0.0',
      token: undefined,
      bodyLimit: 1024 * 1024,
      kafkaBrokers: ['127.0.0.1:9092'],
      kafkaTimeoutMs: 10_000,
    });
  });

  test('every variable', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'a:1, b:2',
      INGEST_PORT: '0',
      INGEST_HOST: '127.0.0.1',
      INGEST_TOKEN: 't0ken',
      INGEST_BODY_LIMIT: '512kb',
      INGEST_KAFKA_TIMEOUT_MS: '2500',
    });
    expect(c).toEqual({
      port: 0,
      host: '127.0.0.1',
      token: 't0ken',
      bodyLimit: 512 * 1024,
      kafkaBrokers: ['a:1', 'b:2'],
      kafkaTimeoutMs: 2500,
    });
  });

  test.each([
    [{ INGEST_PORT: 'http' }, 'INGEST_PORT must be an integer'],
    [{ INGEST_PORT: '70000' }, 'INGEST_PORT must be ≤ 65535'],
    [{ INGEST_BODY_LIMIT: 'lots' }, 'INGEST_BODY_LIMIT must be a size'],
    [{ INGEST_BODY_LIMIT: '0' }, 'INGEST_BODY_LIMIT must be at least 1 byte'],
    [{ INGEST_KAFKA_TIMEOUT_MS: '0' }, 'INGEST_KAFKA_TIMEOUT_MS must be ≥ 1'],
    [{ KAFKA_BROKERS: '' }, 'KAFKA_BROKERS is required'],
  ])('%j is refused with a message naming the variable', (env, message) => {
    const run = () => loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', ...env });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});
