import { explainFailure, hasZone, isCalendarDay, parseInstant } from './support';

test('a time on the command line must say its zone (alertbus replay): read in the machine\'s, it picked another window per laptop', () => {
  expect(parseInstant('--from', '2025-03-01T10:00:00Z')).toBe(Date.parse('2025-03-01T10:00:00Z'));
  expect(parseInstant('--from', '2025-03-01T05:00:00-05:00')).toBe(Date.parse('2025-03-01T10:00:00Z'));
  expect(parseInstant('--to', '2025-03-02')).toBe(Date.parse('2025-03-02T00:00:00Z'));
  expect(() => parseInstant('--from', '2025-03-01T10:00:00')).toThrow('--from must say its zone, as 2025-03-01T10:00:00Z (UTC) or +01:00, got "2025-03-01T10:00:00"');
  expect(() => parseInstant('--from', '2025-03-01 08:00')).toThrow(/must say its zone/);
  expect(() => parseInstant('--from', 'yesterday')).toThrow(/must be an ISO 8601 time/);
  expect(['2025-03-01T10:00Z', '2025-03-01T10:00:00.123+0100', '2025-03-01 10:00:00z'].every(hasZone)).toBe(true);
});

test('a day the month does not have is refused, not rolled into the next month (alertbus replay read 2026-12-01 for 2026-11-31)', () => {
  for (const day of ['2026-11-31T00:00:00Z', '2025-02-29', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z']) {
    expect(() => parseInstant('--from', day)).toThrow(`--from must be an ISO 8601 time such as 2025-03-01T10:00:00Z, got "${day}"`);
  }
  expect(['2024-02-29', '2026-12-31T23:59:59Z', '0001-01-01T00:00:00Z'].every(isCalendarDay)).toBe(true);
});

describe('explainFailure: a command that reached neither Kafka nor Postgres names the setting', () => {
  const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });

  test('Kafka: KafkaJS errors, the broker address kept', () => {
    const err = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1'), { name: 'KafkaJSConnectionError', cause: refused('127.0.0.1:1') });
    expect(explainFailure(err)).toBe('Kafka did not answer (KAFKA_BROKERS or --brokers; is the broker running?): Connection error: connect ECONNREFUSED 127.0.0.1:1');
  });

  test('Kafka without the topic: the broker answered, so the prefix is named, not an outage', () => {
    const err = Object.assign(new Error('This server does not host this topic-partition'), {
      name: 'KafkaJSProtocolError',
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    expect(explainFailure(err)).toBe(
      `Kafka has no such topic (KAFKA_TOPIC_PREFIX is ${process.env.KAFKA_TOPIC_PREFIX ? JSON.stringify(process.env.KAFKA_TOPIC_PREFIX) : 'unset'}: is it this installation's, and has alertbus run against this broker?): This server does not host this topic-partition`,
    );
  });

  test('Postgres: a refused connection, and a server that refuses the database or the login', () => {
    expect(explainFailure(refused('127.0.0.1:5432'))).toBe('Postgres did not answer (DATABASE_URL or --database-url; is it running?): connect ECONNREFUSED 127.0.0.1:5432');
    const missing = Object.assign(new Error('database "alertbsu" does not exist'), { code: '3D000', severity: 'FATAL' });
    expect(explainFailure(missing)).toBe('Postgres refused the connection (DATABASE_URL or --database-url): database "alertbsu" does not exist');
  });

  test('anything else is its own message', () => {
    expect(explainFailure(new Error('no dead letter with id x'))).toBe('no dead letter with id x');
    expect(explainFailure(Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' }))).toBe('duplicate key');
    expect(explainFailure(Object.assign(new TypeError('fetch failed'), { cause: refused('127.0.0.1:8081') }))).toBe('fetch failed');
  });
});
