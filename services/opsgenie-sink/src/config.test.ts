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

describe('opsgenie-sink configuration: OPSGENIE_API_URL against PAGER_PROVIDER', () => {
  // Each of these made every call a 404 (e.g. POST /jsm/ops/integration/jsm/ops/integration/v2/alerts) and every page a dead letter.
  test.each([
    ['jsm', 'https://api.atlassian.com/jsm/ops/integration', /^OPSGENIE_API_URL has a path the jsm client appends itself \(\/jsm\/ops\/integration\).*expected .*https:\/\/api\.atlassian\.com/],
    ['opsgenie', 'https://api.opsgenie.com/v2', /^OPSGENIE_API_URL has a path the opsgenie client appends itself \(\/v2\).*expected .*https:\/\/api\.opsgenie\.com/],
    ['opsgenie', 'https://api.eu.opsgenie.com/v2/alerts/', /^OPSGENIE_API_URL has a path .*\(\/v2\/alerts\)/],
    ['jsm', 'https://api.opsgenie.com', /^OPSGENIE_API_URL is Opsgenie's host while PAGER_PROVIDER=jsm: "https:\/\/api\.opsgenie\.com".*https:\/\/api\.atlassian\.com/],
    ['jsm', 'https://api.eu.opsgenie.com/', /^OPSGENIE_API_URL is Opsgenie's host while PAGER_PROVIDER=jsm/],
    ['opsgenie', 'https://api.atlassian.com', /^OPSGENIE_API_URL is JSM Operations' host while PAGER_PROVIDER=opsgenie: .*set PAGER_PROVIDER=jsm/],
  ])('%s with %s is refused at start, naming the setting and the expected form', (provider, url, message) => {
    expect(() => loadConfig({ ...base, PAGER_PROVIDER: provider, OPSGENIE_API_URL: url })).toThrow(message);
  });

  test('jsm with OPSGENIE_API_URL unset talks to JSM Operations\' host, not Opsgenie\'s', () => {
    expect(loadConfig({ ...base, PAGER_PROVIDER: 'jsm' }).apiUrl).toBe('https://api.atlassian.com');
  });

  test('an empty OPSGENIE_API_URL (docker compose passes it so when unset) is unset: each provider\'s own host', () => {
    expect(loadConfig({ ...base, PAGER_PROVIDER: 'jsm', OPSGENIE_API_URL: '' }).apiUrl).toBe('https://api.atlassian.com');
    expect(loadConfig({ ...base, PAGER_PROVIDER: 'opsgenie', OPSGENIE_API_URL: '' }).apiUrl).toBe('https://api.opsgenie.com');
  });

  test.each([
    ['opsgenie', undefined, 'https://api.opsgenie.com'],
    ['opsgenie', 'https://api.eu.opsgenie.com/', 'https://api.eu.opsgenie.com'],
    ['jsm', 'https://api.atlassian.com', 'https://api.atlassian.com'],
    ['jsm', 'http://127.0.0.1:4010', 'http://127.0.0.1:4010'],
    ['opsgenie', 'http://localhost:4010/', 'http://localhost:4010'],
    ['opsgenie', 'https://egress.example.com/opsgenie', 'https://egress.example.com/opsgenie'],
  ])('%s with %s is taken (the real hosts, a stand-in, a proxy prefix)', (provider, url, taken) => {
    expect(loadConfig({ ...base, PAGER_PROVIDER: provider, ...(url ? { OPSGENIE_API_URL: url } : {}) }).apiUrl).toBe(taken);
  });
});

describe('opsgenie-sink configuration: OPSGENIE_CLOSE_WAIT_MAX_MS', () => {
  test('5 minutes by default; 0 leaves the settle window alone; a negative or non-number value is refused, naming it', () => {
    expect(loadConfig(base).closeWaitMaxMs).toBe(300_000);
    expect(loadConfig({ ...base, OPSGENIE_CLOSE_WAIT_MAX_MS: '0' }).closeWaitMaxMs).toBe(0);
    expect(() => loadConfig({ ...base, OPSGENIE_CLOSE_WAIT_MAX_MS: '-1' })).toThrow(/OPSGENIE_CLOSE_WAIT_MAX_MS/);
    expect(() => loadConfig({ ...base, OPSGENIE_CLOSE_WAIT_MAX_MS: 'soon' })).toThrow(/OPSGENIE_CLOSE_WAIT_MAX_MS/);
  });
});
