import { ConfigError } from '@alertbus/common';
import { listeningFields, loadSlackSinkConfig as loadConfig } from './config';
import { postSettleWindow } from './reconcile';

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

describe('slack-sink: which Slack tokens it starts with', () => {
  const { SLACK_BOT_TOKEN: _token, ...noToken } = base;
  const key = 'ab'.repeat(32);

  test('SLACK_BOT_TOKEN alone: one workspace, no installs', () => {
    const c = loadConfig(base);
    expect(c.token).toBe('xoxb-1');
    expect(c.tokenKey).toBeUndefined();
  });

  test('SLACK_BOT_TOKEN with SLACK_TOKEN_KEY: installed workspaces, and SLACK_BOT_TOKEN for what comes from none', () => {
    const c = loadConfig({ ...base, SLACK_TOKEN_KEY: key });
    expect(c.token).toBe('xoxb-1');
    expect(c.tokenKey).toEqual(Buffer.from(key, 'hex'));
  });

  test('neither: no token at all, so the sink runs dry', () => {
    const c = loadConfig({ ...noToken, SLACK_TOKEN_KEY: '' });
    expect(c.token).toBeUndefined();
    expect(c.tokenKey).toBeUndefined();
  });

  test('SLACK_TOKEN_KEY without SLACK_BOT_TOKEN is refused at start: alerts and notifications would have no token to be posted with', () => {
    for (const env of [{ ...noToken, SLACK_TOKEN_KEY: key }, { ...base, SLACK_BOT_TOKEN: ' ', SLACK_TOKEN_KEY: key }]) {
      // A ConfigError: main prints its message and exits 1, as for any other bad setting.
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(
        /^SLACK_TOKEN_KEY \(OAuth installs\) is set but SLACK_BOT_TOKEN is not: alerts and notifications come from no workspace, so they are posted with SLACK_BOT_TOKEN/,
      );
    }
  });
});

describe('slack-sink: its start line', () => {
  test('names its API URLs without a proxy\'s user and password or a key in the query', () => {
    const c = loadConfig({
      ...base,
      SLACK_API_URL: 'https://proxyuser:Pr0xyPassw0rd@slack.example.com/api/',
      OPSGENIE_API_KEY: 'k1',
      OPSGENIE_API_URL: 'https://og:0gPassw0rd@opsgenie.example.com/?key=QueryK3y',
    });
    const line = JSON.stringify(listeningFields(c, { opsUrl: 'http://127.0.0.1:8084', dryRun: false }));
    expect(line).toContain('"slackApiUrl":"https://[redacted]@slack.example.com/api/"');
    expect(line).toContain('"opsgenieApiUrl":"https://[redacted]@opsgenie.example.com/?[redacted]"');
    for (const secret of ['Pr0xyPassw0rd', '0gPassw0rd', 'QueryK3y', 'proxyuser']) expect(line).not.toContain(secret);
  });
});

describe('slack-sink: how long a post that got no answer may still be made', () => {
  test('SLACK_TIMEOUT_MS and SLACK_POST_SETTLE_MS after the attempt started (10 s past the timeout by default; 0 trusts the first look-up after it)', () => {
    const window = (env: Record<string, string>) => {
      const c = loadConfig({ ...base, ...env });
      return postSettleWindow(c.requestTimeoutMs, c.postSettleMs).settleMs;
    };
    expect(window({})).toBe(20_000);
    expect(window({ SLACK_TIMEOUT_MS: '30000', SLACK_POST_SETTLE_MS: '0' })).toBe(30_000);
    expect(() => loadConfig({ ...base, SLACK_POST_SETTLE_MS: '-1' })).toThrow(ConfigError);
  });
});
