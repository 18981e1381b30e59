import { loadSlackSinkConfig as loadConfig } from './config';

const base = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/alertbus', SLACK_BOT_TOKEN: 'xoxb-1' };
const onCall = (env: Record<string, string>) => {
  const c = loadConfig({ ...base, ...env });
  return { url: c.opsgenieApiUrl, key: c.opsgenieApiKey, notice: c.onCallNotice };
};

describe('slack-sink: where who-is-on-call is asked', () => {
  test('Opsgenie as the pager: its host and key (EU too), or a separate on-call key', () => {
    expect(onCall({ OPSGENIE_API_KEY: 'k1' })).toEqual({ url: 'https://api.opsgenie.com', key: 'k1', notice: undefined });
    expect(onCall({ OPSGENIE_API_KEY: 'k1', OPSGENIE_API_URL: 'https://api.eu.opsgenie.com/' })).toMatchObject({ url: 'https://api.eu.opsgenie.com', key: 'k1' });
    expect(onCall({ OPSGENIE_API_KEY: 'k1', ONCALL_OPSGENIE_API_KEY: 'k2' })).toMatchObject({ key: 'k2' });
  });

  test('after the switch to JSM the README describes, the lookup stays on Opsgenie and does not send the integration key', () => {
    // These are set for every service (docker-compose shares them): the lookup asked api.atlassian.com/v2/schedules.
    const jsm = { PAGER_PROVIDER: 'jsm', OPSGENIE_API_URL: 'https://api.atlassian.com', OPSGENIE_API_KEY: 'jsm-integration-key' };
    expect(onCall(jsm)).toEqual({ url: 'https://api.opsgenie.com', key: undefined, notice: expect.stringContaining('need ONCALL_OPSGENIE_API_KEY') });
    expect(onCall({ ...jsm, ONCALL_OPSGENIE_API_KEY: 'og-key' })).toEqual({ url: 'https://api.opsgenie.com', key: 'og-key', notice: undefined });
    expect(onCall({ ...jsm, ONCALL_OPSGENIE_API_KEY: 'og-key', ONCALL_OPSGENIE_API_URL: 'https://api.eu.opsgenie.com' })).toMatchObject({ url: 'https://api.eu.opsgenie.com', key: 'og-key' });
  });

  test('an on-call URL on JSM is refused at start, saying why', () => {
    expect(() => onCall({ ONCALL_OPSGENIE_API_URL: 'https://api.atlassian.com' })).toThrow(/ONCALL_OPSGENIE_API_URL is JSM Operations .* no who-is-on-call/);
  });
});
