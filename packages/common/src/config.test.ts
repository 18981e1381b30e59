import { ConfigError, DEFAULT_DATABASE_URL, envBrokers, envBytes, envDatabaseUrl, envInt, envSecret, envUrl, quotableUrl } from './config';

describe('a URL a configuration error quotes is quoted without its credentials', () => {
  test.each([
    ['htp://admin:s3cret@history.example/x', 'htp://[redacted]@history.example/x'],
    ['ftp://history.example/?token=s3cret&x=1', 'ftp://history.example/?[redacted]'],
    ['not a url :s3cret@x?k=s3cret', 'not a url :s3cret@x?[redacted]'],
    ['file:///etc/alertbus', 'file:///etc/alertbus'],
  ])('%s → %s', (raw, quoted) => {
    expect(quotableUrl(raw)).toBe(quoted);
  });

  test('envUrl names the variable and never the password or the query', () => {
    for (const raw of ['htp://admin:s3cret@history.example', 'ftp://h.example/?key=s3cret', 'mailto://u:s3cret@h']) {
      let error: unknown;
      try {
        envUrl({ HISTORY_URL: raw }, 'HISTORY_URL', 'http://127.0.0.1:8090');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/^HISTORY_URL must be an http\(s\) URL, got "/);
      expect((error as Error).message).not.toContain('s3cret');
    }
    expect(envUrl({ HISTORY_URL: 'https://u:p@h.example/x?y=1' }, 'HISTORY_URL', 'http://x')).toBe('https://u:p@h.example/x?y=1');
  });
});

describe('numbers and sizes', () => {
  test.each(['0x1F90', '1e4', '0b101', '8080.5', ' ', 'eight', '99999999999999999999'])('%j is not an integer', (raw) => {
    expect(() => envInt({ ROUTER_PORT: raw }, 'ROUTER_PORT', 1)).toThrow(new ConfigError(`ROUTER_PORT must be an integer, got "${raw}"`));
  });

  test('digits are taken, with the bounds named', () => {
    expect(envInt({ P: ' 8080 ' }, 'P', 1)).toBe(8080);
    expect(envInt({}, 'P', 7)).toBe(7);
    expect(() => envInt({ P: '70000' }, 'P', 1, { max: 65535 })).toThrow('P must be ≤ 65535, got 70000');
  });

  test('a size past a gibibyte is refused rather than taken as no bound', () => {
    expect(envBytes({ L: '512kb' }, 'L', 1)).toBe(512 * 1024);
    expect(envBytes({ L: '1024mb' }, 'L', 1)).toBe(1024 * 1024 * 1024);
    for (const raw of ['1025mb', '99999999999999999999']) {
      expect(() => envBytes({ L: raw }, 'L', 1)).toThrow(new ConfigError(`L must be at most 1024mb (1073741824 bytes), got "${raw}"`));
    }
  });
});

describe('keys and tokens (envSecret)', () => {
  test('the newline a secret made from a file ends in, and spaces around, are dropped', () => {
    expect(envSecret({ OPSGENIE_API_KEY: 'abcd-1234\n' }, 'OPSGENIE_API_KEY')).toBe('abcd-1234');
    expect(envSecret({ OPSGENIE_API_KEY: '  abcd-1234\r\n' }, 'OPSGENIE_API_KEY')).toBe('abcd-1234');
    expect(envSecret({ OPSGENIE_API_KEY: ' \n' }, 'OPSGENIE_API_KEY')).toBeUndefined();
    expect(envSecret({}, 'OPSGENIE_API_KEY')).toBeUndefined();
  });

  test('whitespace or a control character inside is refused, naming the variable and not the value', () => {
    for (const value of ['GenieKey abcd-1234', 'abcd\n1234', 'abcd\u00001234']) {
      expect(() => envSecret({ OPSGENIE_API_KEY: value }, 'OPSGENIE_API_KEY')).toThrow(ConfigError);
      try {
        envSecret({ OPSGENIE_API_KEY: value }, 'OPSGENIE_API_KEY');
      } catch (err) {
        expect((err as Error).message).toMatch(/^OPSGENIE_API_KEY holds whitespace or a control character/);
        expect((err as Error).message).not.toContain('1234');
      }
    }
  });
});

describe('DATABASE_URL', () => {
  test('a postgres:// or postgresql:// URL naming a database is taken; unset, the local default', () => {
    expect(envDatabaseUrl({})).toBe(DEFAULT_DATABASE_URL);
    for (const url of ['postgres://app:pw@db:5432/alertbus', 'postgresql://db/alertbus', 'postgres:///alertbus?host=/var/run/postgresql']) {
      expect(envDatabaseUrl({ DATABASE_URL: url })).toBe(url);
    }
  });

  test.each(['postgres://app:Sup3rS3cret@127.0.0.1:99999/alertbus', 'mysql://app:Sup3rS3cret@db/alertbus', 'postgres://app:Sup3rS3cret@db:5432', '127.0.0.1:5432/alertbus'])(
    '%j is refused naming the variable, without its password',
    (url) => {
      expect(() => envDatabaseUrl({ DATABASE_URL: url })).toThrow(ConfigError);
      expect(() => envDatabaseUrl({ DATABASE_URL: url })).toThrow(/^DATABASE_URL must be a postgres:\/\/ URL naming a database/);
      try {
        envDatabaseUrl({ DATABASE_URL: url });
      } catch (err) {
        expect((err as Error).message).not.toContain('Sup3rS3cret');
      }
    },
  );
});

describe('KAFKA_TOPIC_PREFIX', () => {
  test('what Kafka can name topics with is taken, checked wherever the brokers are read', () => {
    expect(envBrokers({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC_PREFIX: 'team-a.prod_' })).toEqual(['k:9092']);
    expect(envBrokers({ KAFKA_BROKERS: 'k:9092' })).toEqual(['k:9092']);
  });

  test.each(['alertbus prod.', 'a/b.', 'é.', 'x'.repeat(201)])('%j is refused, naming the variable', (prefix) => {
    expect(() => envBrokers({ KAFKA_BROKERS: 'k:9092', KAFKA_TOPIC_PREFIX: prefix })).toThrow(/^KAFKA_TOPIC_PREFIX may hold only letters, digits/);
  });
});
