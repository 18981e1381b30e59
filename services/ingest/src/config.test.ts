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
      produceQueueMax: 10_000,
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
      INGEST_PRODUCE_QUEUE_MAX: '500',
    });
    expect(c).toEqual({
      port: 0,
      host: '127.0.0.1',
      token: 't0ken',
      bodyLimit: 512 * 1024,
      kafkaBrokers: ['a:1', 'b:2'],
      kafkaTimeoutMs: 2500,
      produceQueueMax: 500,
    });
  });

  test.each([
    [{ INGEST_PORT: 'http' }, 'INGEST_PORT must be an integer'],
    [{ INGEST_PORT: '70000' }, 'INGEST_PORT must be ≤ 65535'],
    [{ INGEST_BODY_LIMIT: 'lots' }, 'INGEST_BODY_LIMIT must be a size'],
    [{ INGEST_BODY_LIMIT: '0' }, 'INGEST_BODY_LIMIT must be at least 1 byte'],
    [{ INGEST_KAFKA_TIMEOUT_MS: '0' }, 'INGEST_KAFKA_TIMEOUT_MS must be ≥ 1'],
    [{ KAFKA_BROKERS: '' }, 'KAFKA_BROKERS is required'],
    [{ INGEST_PRODUCE_QUEUE_MAX: '0' }, 'INGEST_PRODUCE_QUEUE_MAX must be ≥ 1'],
  ])('%j is refused with a message naming the variable', (env, message) => {
    const run = () => loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', ...env });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});

describe('loadConfig: Slack', () => {
  const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

  test('no SLACK_SIGNING_SECRET → no Slack configuration (the endpoints answer 503)', () => {
    expect(loadConfig({ ...base, SLACK_BOT_TOKEN: 'xoxb-1' }).slack).toBeUndefined();
  });

  test('secret and token → auth.test at start against SLACK_API_URL', () => {
    expect(loadConfig({ ...base, SLACK_SIGNING_SECRET: 's3cret', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: 'http://127.0.0.1:9/api' }).slack).toEqual({
      signingSecret: 's3cret',
      botToken: 'xoxb-1',
      apiUrl: 'http://127.0.0.1:9/api/',
      botUserId: undefined,
      botId: undefined,
      workspaceUrl: undefined,
      ackTimeoutMs: 2_500,
    });
  });

  test('secret and configured ids, no token', () => {
    const slack = loadConfig({
      ...base,
      SLACK_SIGNING_SECRET: 's3cret',
      SLACK_BOT_USER_ID: 'U0BOT',
      SLACK_BOT_ID: 'B0BOT',
      SLACK_WORKSPACE_URL: 'https://acme.slack.com',
      INGEST_SLACK_TIMEOUT_MS: '2000',
    }).slack;
    expect(slack).toMatchObject({ botUserId: 'U0BOT', botId: 'B0BOT', workspaceUrl: 'https://acme.slack.com/', ackTimeoutMs: 2000, apiUrl: 'https://slack.com/api/' });
  });

  test.each([
    [{ SLACK_SIGNING_SECRET: 's3cret' }, 'neither SLACK_BOT_TOKEN'],
    [{ SLACK_SIGNING_SECRET: 's3 cret', SLACK_BOT_TOKEN: 'x' }, 'SLACK_SIGNING_SECRET must not contain whitespace'],
    [{ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'x', INGEST_SLACK_TIMEOUT_MS: '5000' }, 'INGEST_SLACK_TIMEOUT_MS must be ≤ 2900'],
    [{ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'x', SLACK_API_URL: 'slack.com' }, 'SLACK_API_URL must be an http(s) URL'],
  ])('%j is refused', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });
});
