import { loadConfig } from './config';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/alertbus' };

describe('opsgenie-sink configuration: the API key', () => {
  test('a key from a file keeps no newline: with it, every call was refused by Node before it left, and retried without end', () => {
    expect(loadConfig({ ...base, OPSGENIE_API_KEY: 'eb243592-faa2-4ba2-a551q-1afdf565c889\n' }).apiKey).toBe('eb243592-faa2-4ba2-a551q-1afdf565c889');
  });

  test('a key with a space inside (GenieKey pasted with it) is refused at start, the key not quoted', () => {
    expect(() => loadConfig({ ...base, OPSGENIE_API_KEY: 'GenieKey eb243592' })).toThrow(/^OPSGENIE_API_KEY holds whitespace .*\(value not shown\)$/);
  });
});
