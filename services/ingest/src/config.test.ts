import { ConfigError } from '@alertbus/common';
import { checkExposure, loadConfig, openIngestWarning, openInstallsWarning } from './config';

describe('loadConfig', () => {
  test('defaults', () => {
    expect(loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092' })).toEqual({
      port: 8080,
      host: '127.0.0.1',
      token: undefined,
      tokens: [],
      bodyLimit: 16 * 1024 * 1024,
      maxAlerts: 10_000,
      maxNormalisedBytes: 48 * 1024 * 1024,
      kafkaBrokers: ['127.0.0.1:9092'],
      kafkaTimeoutMs: 10_000,
      produceQueueMax: 10_000,
      notifySyncTimeoutMs: 10_000,
    });
  });

  test('every variable', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'a:1, b:2',
      INGEST_PORT: '0',
      INGEST_HOST: '127.0.0.1',
      INGEST_TOKEN: 'admin-t0ken-0123456789',
      INGEST_TOKENS: 'alertmanager-eu:am-t0ken-0123456789, grafana:gr.t0ken:with:colons',
      INGEST_NOTIFY_DIRECTLY: 'grafana',
      INGEST_PAGER_SENDERS: 'alertmanager-eu',
      INGEST_BODY_LIMIT: '512kb',
      INGEST_MAX_ALERTS: '50',
      INGEST_MAX_NORMALISED_BYTES: '2mb',
      INGEST_KAFKA_TIMEOUT_MS: '2500',
      INGEST_PRODUCE_QUEUE_MAX: '500',
      ROUTING_RULES: '/etc/alertbus/rules.yaml',
      NOTIFY_SYNC_TIMEOUT: '3s',
    });
    expect(c).toEqual({
      port: 0,
      host: '127.0.0.1',
      token: 'admin-t0ken-0123456789',
      tokens: [
        { name: 'alertmanager-eu', token: 'am-t0ken-0123456789' },
        { name: 'grafana', token: 'gr.t0ken:with:colons' },
      ],
      directSenders: ['grafana'],
      pagerSenders: ['alertmanager-eu'],
      bodyLimit: 512 * 1024,
      maxAlerts: 50,
      maxNormalisedBytes: 2 * 1024 * 1024,
      kafkaBrokers: ['a:1', 'b:2'],
      kafkaTimeoutMs: 2500,
      produceQueueMax: 500,
      rulesPath: '/etc/alertbus/rules.yaml',
      notifySyncTimeoutMs: 3000,
    });
  });

  test.each([
    [{ INGEST_PORT: 'http' }, 'INGEST_PORT must be an integer'],
    [{ INGEST_PORT: '70000' }, 'INGEST_PORT must be ≤ 65535'],
    [{ INGEST_BODY_LIMIT: 'lots' }, 'INGEST_BODY_LIMIT must be a size'],
    [{ INGEST_BODY_LIMIT: '0' }, 'INGEST_BODY_LIMIT must be at least 1 byte'],
    [{ INGEST_KAFKA_TIMEOUT_MS: '0' }, 'INGEST_KAFKA_TIMEOUT_MS must be ≥ 1'],
    [{ INGEST_MAX_ALERTS: '0' }, 'INGEST_MAX_ALERTS must be ≥ 1'],
    [{ INGEST_MAX_NORMALISED_BYTES: 'big' }, 'INGEST_MAX_NORMALISED_BYTES must be a size'],
    [{ INGEST_TOKENS: 'no-colon-here' }, 'INGEST_TOKENS entry 1 must be NAME:TOKEN'],
    [{ INGEST_TOKENS: 'a:x-0123456789abcdef,bad name:y' }, 'INGEST_TOKENS entry 2 must be NAME:TOKEN'],
    [{ INGEST_TOKENS: 'a:' }, 'INGEST_TOKENS entry 1 has an empty token'],
    [{ INGEST_TOKENS: 'a:short' }, 'INGEST_TOKENS entry 1: the token (after the first colon) must be at least 16 characters'],
    [{ INGEST_TOKENS: 'a:x-0123456789abcdef,a:y-0123456789abcdef' }, 'INGEST_TOKENS names "a" twice'],
    [{ INGEST_TOKENS: 'a:x-0123456789abcdef,b:x-0123456789abcdef' }, 'INGEST_TOKENS gives "b" the same token as another entry'],
    [{ INGEST_TOKEN: 'x-0123456789abcdef', INGEST_TOKENS: 'a:x-0123456789abcdef' }, 'INGEST_TOKENS repeats INGEST_TOKEN'],
    [{ INGEST_TOKEN: 'short' }, 'INGEST_TOKEN must be at least 16 characters'],
    [{ INGEST_TOKEN: 'x'.repeat(15) }, 'INGEST_TOKEN must be at least 16 characters'],
    [{ INGEST_ALLOW_OPEN: 'yes' }, 'INGEST_ALLOW_OPEN must be true or false'],
    [{ INGEST_NOTIFY_DIRECTLY: 'deploys' }, 'INGEST_NOTIFY_DIRECTLY entry 1 is not the name of a sender of INGEST_TOKENS, which are case-sensitive (INGEST_TOKENS is not set)'],
    [{ INGEST_TOKENS: 'a:x-0123456789abcdef', INGEST_NOTIFY_DIRECTLY: 'a, b' }, 'INGEST_NOTIFY_DIRECTLY entry 2 is not the name of a sender of INGEST_TOKENS, which are case-sensitive (senders: a)'],
    [{ INGEST_PAGER_SENDERS: 'relay' }, 'INGEST_PAGER_SENDERS entry 1 is not the name of a sender of INGEST_TOKENS, which are case-sensitive (INGEST_TOKENS is not set)'],
    [{ INGEST_TOKENS: 'relay:x-0123456789abcdef', INGEST_PAGER_SENDERS: 'relay,' }, 'INGEST_PAGER_SENDERS entry 2 is empty (a stray comma?)'],
    [{ INGEST_TOKENS: 'relay:x-0123456789abcdef', INGEST_PAGER_SENDERS: 'relay, rleay' }, 'INGEST_PAGER_SENDERS entry 2 is not the name of a sender of INGEST_TOKENS, which are case-sensitive (senders: relay)'],
    [
      { INGEST_TOKENS: 'opsgenie:x-0123456789abcdef', INGEST_PAGER_SENDERS: 'opsgenie' },
      'INGEST_PAGER_SENDERS lists "opsgenie": the INGEST_TOKENS entry named opsgenie is taken on /webhooks/opsgenie without being listed',
    ],
    [{ KAFKA_BROKERS: '' }, 'KAFKA_BROKERS is required'],
    [{ INGEST_PRODUCE_QUEUE_MAX: '0' }, 'INGEST_PRODUCE_QUEUE_MAX must be ≥ 1'],
  ])('%j is refused with a message naming the variable', (env, message) => {
    const run = () => loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', ...env });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
  });
});

test('a refused INGEST_TOKENS never shows a token in its message', () => {
  // The last: written the other way round (TOKEN:NAME), where the name goes stands the secret.
  for (const raw of ['a:s3cr3t-one-0123456789,a:s3cr3t-two-0123456789', 'a:s3cr3t-one-0123456789,b:s3cr3t-one-0123456789', 'bad name:s3cr3t-one-0123456789', 's3cr3t9f2c4e8a1b7d:alertmanager']) {
    expect(() => loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', INGEST_TOKENS: raw })).toThrow(ConfigError);
    try {
      loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', INGEST_TOKENS: raw });
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cr3t');
    }
  }
});

describe('off loopback, ingest needs a token or an explicit INGEST_ALLOW_OPEN', () => {
  const base = { KAFKA_BROKERS: '127.0.0.1:9092' };

  test.each(['0.0.0.0', '::', '10.1.2.3', 'ingest.example.internal'])('INGEST_HOST=%s without a token refuses to start, saying what to set', (host) => {
    const run = () => loadConfig({ ...base, INGEST_HOST: host });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(`INGEST_HOST=${host} is not a loopback address and neither INGEST_TOKEN nor INGEST_TOKENS is set`);
    expect(run).toThrow(/set INGEST_TOKEN .*INGEST_TOKENS=NAME:TOKEN.*INGEST_HOST=127\.0\.0\.1.*INGEST_ALLOW_OPEN=true/);
  });

  test.each([
    [{}, '127.0.0.1'],
    [{ INGEST_HOST: 'localhost' }, 'localhost'],
    [{ INGEST_HOST: '::1' }, '::1'],
    [{ INGEST_HOST: '0.0.0.0', INGEST_TOKEN: 'x-0123456789abcdef' }, '0.0.0.0'],
    [{ INGEST_HOST: '0.0.0.0', INGEST_TOKENS: 'am:x-0123456789abcdef' }, '0.0.0.0'],
    [{ INGEST_HOST: '0.0.0.0', INGEST_ALLOW_OPEN: 'true' }, '0.0.0.0'],
  ])('%j starts, on %s', (env, host) => {
    expect(loadConfig({ ...base, ...env }).host).toBe(host);
  });

  test('INGEST_ALLOW_OPEN is recorded only when true', () => {
    expect(loadConfig({ ...base, INGEST_HOST: '0.0.0.0', INGEST_ALLOW_OPEN: 'TRUE' }).allowOpen).toBe(true);
    expect(loadConfig({ ...base, INGEST_ALLOW_OPEN: 'false' }).allowOpen).toBeUndefined();
    expect(() => loadConfig({ ...base, INGEST_HOST: '0.0.0.0', INGEST_ALLOW_OPEN: 'false' })).toThrow(/INGEST_ALLOW_OPEN=true/);
  });

  test('a configuration built in code is held to the same rule', () => {
    expect(() => checkExposure({ host: '0.0.0.0' })).toThrow(ConfigError);
    expect(() => checkExposure({ host: '0.0.0.0', tokens: [] })).toThrow(ConfigError);
    expect(() => checkExposure({ host: '0.0.0.0', allowOpen: true })).not.toThrow();
    expect(() => checkExposure({ host: '[::1]' })).not.toThrow();
  });
});

test('a refused INGEST_TOKEN, INGEST_NOTIFY_DIRECTLY or INGEST_PAGER_SENDERS never shows a token in its message', () => {
  const refused = [
    { INGEST_TOKEN: 's3cr3t-short' },
    { INGEST_TOKEN: 's3cr3t inside-0123456789' },
    // A token pasted where a sender's name goes.
    { INGEST_TOKENS: 'am:s3cr3t-one-0123456789', INGEST_NOTIFY_DIRECTLY: 's3cr3t-one-0123456789' },
    { INGEST_TOKENS: 'am:s3cr3t-one-0123456789', INGEST_PAGER_SENDERS: 's3cr3t-one-0123456789' },
  ];
  for (const env of refused) {
    const run = () => loadConfig({ KAFKA_BROKERS: '127.0.0.1:9092', ...env });
    expect(run).toThrow(ConfigError);
    expect(run).not.toThrow(/s3cr3t/);
  }
});

describe('the warning when anyone who can reach ingest can write to it (INGEST_ALLOW_OPEN)', () => {
  test.each([
    ['0.0.0.0', {}, true],
    ['::', {}, true],
    ['10.1.2.3', {}, true],
    ['0.0.0.0', { token: 't' }, false],
    ['0.0.0.0', { tokens: [{ name: 'am', token: 't' }] }, false],
    ['127.0.0.1', {}, false],
    ['127.1.2.3', {}, false],
    ['localhost', {}, false],
    ['::1', {}, false],
    ['[::1]', {}, false],
  ])('host %s with %j → warned: %s', (host, auth, warned) => {
    const warning = openIngestWarning({ host, ...auth });
    expect(warning !== undefined).toBe(warned);
    if (warning) expect(warning).toMatch(/^INGEST IS OPEN: .*INGEST_ALLOW_OPEN=true.*Set INGEST_TOKEN/);
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
      userGroupsTtlMs: 300_000,
      slashCommand: '/alertbus',
      historyUrl: 'http://127.0.0.1:8081',
      historyToken: undefined,
    });
  });

  test('SLACK_COMMAND names the slash command; anything Slack would not take as one stops the start', () => {
    const slack = { ...base, SLACK_SIGNING_SECRET: 's3cret', SLACK_BOT_TOKEN: 'xoxb-1' };
    expect(loadConfig({ ...slack, SLACK_COMMAND: '/ops-bot' }).slack?.slashCommand).toBe('/ops-bot');
    for (const bad of ['alertbus', '/Alert Bus', '/']) expect(() => loadConfig({ ...slack, SLACK_COMMAND: bad })).toThrow(/SLACK_COMMAND/);
    expect(loadConfig({ ...slack, HISTORY_URL: 'http://history:8081/', HISTORY_TOKEN: 'tok' }).slack).toMatchObject({ historyUrl: 'http://history:8081', historyToken: 'tok' });
  });

  test('SLACK_USERGROUPS_TTL is a duration of at least a second', () => {
    const env = { ...base, SLACK_SIGNING_SECRET: 's3cret', SLACK_BOT_TOKEN: 'xoxb-1' };
    expect(loadConfig({ ...env, SLACK_USERGROUPS_TTL: '90s' }).slack?.userGroupsTtlMs).toBe(90_000);
    expect(() => loadConfig({ ...env, SLACK_USERGROUPS_TTL: '10ms' })).toThrow(/SLACK_USERGROUPS_TTL must be at least 1000 ms/);
    expect(() => loadConfig({ ...env, SLACK_USERGROUPS_TTL: 'soon' })).toThrow(/SLACK_USERGROUPS_TTL must be a duration/);
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
    [{ SLACK_SIGNING_SECRET: 's3 cret', SLACK_BOT_TOKEN: 'x' }, 'SLACK_SIGNING_SECRET holds whitespace or a control character inside it'],
    [{ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'x', INGEST_SLACK_TIMEOUT_MS: '5000' }, 'INGEST_SLACK_TIMEOUT_MS must be ≤ 2900'],
    [{ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'x', SLACK_API_URL: 'slack.com' }, 'SLACK_API_URL must be an http(s) URL'],
    [{ SLACK_APP_TOKEN: 'xoxb-not-an-app-token', SLACK_BOT_TOKEN: 'x' }, 'SLACK_APP_TOKEN must be an app-level token'],
    [{ SLACK_APP_TOKEN: 'xapp-1-a' }, 'SLACK_APP_TOKEN is set but neither SLACK_BOT_TOKEN'],
    [{ SLACK_CLIENT_ID: '1.2' }, 'SLACK_CLIENT_SECRET'],
    [{ SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 'c' }, 'SLACK_TOKEN_KEY is not'],
    [{ SLACK_CLIENT_ID: '1.2', SLACK_CLIENT_SECRET: 'c', SLACK_TOKEN_KEY: 'too-short-key' }, 'SLACK_TOKEN_KEY must be 32 random bytes'],
    [{ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'x', SLACK_ALLOWED_TEAMS: 'acme' }, 'SLACK_ALLOWED_TEAMS must be Slack team ids such as T0123ABCD, comma-separated; not "acme"'],
    [{ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'x', SLACK_ALLOWED_TEAMS: ' , ' }, 'it names none'],
  ])('%j is refused', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });

  test('Socket Mode needs no signing secret: the HTTP endpoints stay off', () => {
    const slack = loadConfig({ ...base, SLACK_APP_TOKEN: 'xapp-1-A1-abc', SLACK_BOT_TOKEN: 'xoxb-1' }).slack;
    expect(slack).toMatchObject({ appToken: 'xapp-1-A1-abc', botToken: 'xoxb-1' });
    expect(slack?.signingSecret).toBeUndefined();
  });

  test('OAuth installs: client credentials, the token key (hex or base64) and the database; no bot token needed', () => {
    const key = Buffer.alloc(32, 7);
    const slack = loadConfig({
      ...base,
      SLACK_SIGNING_SECRET: 's3cret',
      SLACK_CLIENT_ID: '1.2',
      SLACK_CLIENT_SECRET: 'c',
      SLACK_TOKEN_KEY: key.toString('hex'),
      SLACK_REDIRECT_URL: 'https://alertbus.example.com/slack/oauth_redirect',
    }).slack;
    expect(slack?.oauth).toMatchObject({ clientId: '1.2', clientSecret: 'c', tokenKey: key, redirectUrl: 'https://alertbus.example.com/slack/oauth_redirect' });
    expect(slack?.oauth?.databaseUrl).toMatch(/^postgres:/);
    // Open to any workspace that installs the app, and said so at start, until SLACK_ALLOWED_TEAMS names them.
    expect(openInstallsWarning(slack)).toMatch(/SLACK INSTALLS ARE OPEN.*SLACK_ALLOWED_TEAMS/);
    const only = loadConfig({
      ...base,
      SLACK_SIGNING_SECRET: 's3cret',
      SLACK_CLIENT_ID: '1.2',
      SLACK_CLIENT_SECRET: 'c',
      SLACK_TOKEN_KEY: key.toString('hex'),
      SLACK_ALLOWED_TEAMS: 'T0123ABCD, E0ORG1',
    }).slack;
    expect([...(only?.allowedTeams ?? [])]).toEqual(['T0123ABCD', 'E0ORG1']);
    expect(openInstallsWarning(only)).toBeUndefined();
  });
});
