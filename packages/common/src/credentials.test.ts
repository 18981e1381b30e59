import { isCredentialKey, isSecretName, mayHoldCredentials, redactCredentials, redactCredentialsIfAny } from './credentials';

describe('credentials in free text are redacted by their shape', () => {
  test.each([
    // A URL's password holding a raw `@` or `#`: everything before the host's `@` goes.
    ['connecting to postgres://etl:Pa@ss#w0rd@db.internal/prod', 'connecting to postgres://[redacted]@db.internal/prod'],
    ['clone ssh://git@github.com/org/repo.git', 'clone ssh://[redacted]@github.com/org/repo.git'],
    // Slack incoming webhooks: the URL is the credential.
    ['posting to https://hooks.slack.com/services/T0001/B0002/abcdefABCDEF123456 now', 'posting to [redacted] now'],
    // docker login -p, aws configure set …secret…, credentials=.
    ['docker login -u ci -p DockerPw99 registry.example.com', 'docker login -u ci -p [redacted] registry.example.com'],
    ['aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG', 'aws configure set aws_secret_access_key [redacted]'],
    ['aws configure set region eu-west-1', 'aws configure set region eu-west-1'],
    ['rclone --config x credentials=AKIA:zzzz sync', 'rclone --config x credentials=[redacted] sync'],
    ['PRIVATE_KEY=abc123 ./sign', 'PRIVATE_KEY=[redacted] ./sign'],
    // A PEM private key's body, ended or cut.
    [
      'key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nx9zq\n-----END RSA PRIVATE KEY-----\ndone',
      'key:\n-----BEGIN RSA PRIVATE KEY-----\n[redacted]\n-----END RSA PRIVATE KEY-----\ndone',
    ],
    ['-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\nAAAA', '-----BEGIN OPENSSH PRIVATE KEY-----\n[redacted]'],
    ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
    // What senders write into alerts: a failed command in a label or a summary.
    ['pg_dump --password=CmdPw1 -h db', 'pg_dump --password=[redacted] -h db'],
    ['backup failed: mysql -uroot -pRootPw7 prod', 'backup failed: mysql -uroot -p[redacted] prod'],
    ['login with password=PlainPw1 refused', 'login with password=[redacted] refused'],
    ['Disk full on db-9 (97% of /var)', 'Disk full on db-9 (97% of /var)'],
    // A Slack message's label list, as alertbus renders it.
    ['*Labels*\n• api_token: tok-label-SECRET-abc123\n• db_password: hunter2\n• host: db-9', '*Labels*\n• api_token: [redacted]\n• db_password: [redacted]\n• host: db-9'],
    // Words that only contain a credential's name are ordinary text.
    ['tokenizer_errors=12 on keyboard service, max_tokens=4096', 'tokenizer_errors=12 on keyboard service, max_tokens=4096'],
    ['tokenizer: worker crashed after 3 retries\nsecretary: on leave\npasswords_rotated=yes', 'tokenizer: worker crashed after 3 retries\nsecretary: on leave\npasswords_rotated=yes'],
    ['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI x', 'AWS_SECRET_ACCESS_KEY=[redacted] x'],
    // A value ends where the quoted text or command it was in does.
    ['echo "export AWS_SECRET_ACCESS_KEY=abc123"; echo done', 'echo "export AWS_SECRET_ACCESS_KEY=[redacted]"; echo done'],
    ['TOKEN=abc123; echo done && PASSWORD=x|y', 'TOKEN=[redacted]; echo done && PASSWORD=[redacted]'],
    // A name said as a secret with `:` in the middle of a line: its word when it looks like a credential.
    ['login failed, token: abc123XYZ789 for user x', 'login failed, token: [redacted] for user x'],
    ['retrying; db_password: s3cr3t-pw. giving up', 'retrying; db_password: [redacted]. giving up'],
    ['auth refused (api_key: "Zx9_Qw8_Er7") at 10:02', 'auth refused (api_key: "[redacted]") at 10:02'],
    ['hook 502, secret: CorrectHorseBattery, again', 'hook 502, secret: [redacted], again'],
    ['login failed, token: expired for user x', 'login failed, token: expired for user x'],
    ['login failed (password: incorrect), secret: rotated.', 'login failed (password: incorrect), secret: rotated.'],
    ['deploy blocked, token: re-issued; password: Incorrect', 'deploy blocked, token: re-issued; password: Incorrect'],
    ['cache hit, token: a1b2 (short)', 'cache hit, token: a1b2 (short)'],
    ['retry 3, tokenizer: v2024-01-01 loaded', 'retry 3, tokenizer: v2024-01-01 loaded'],
    // Tokens whose prefix says what they are, whatever names them.
    ['charge failed: STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'charge failed: STRIPE_KEY=[redacted]'],
    ['used sk_test_4eC39HqLyjWDarjtT1zdp7dc and rk_live_51HfAbCdEfGhIjKlMn0p', 'used [redacted] and [redacted]'],
    ['s3 403 for AKIAIOSFODNN7EXAMPLE in eu-west-1', 's3 403 for [redacted] in eu-west-1'],
    ['clone with glpat-xY12_ab-CD34efGH56ij failed', 'clone with [redacted] failed'],
    ['publish: npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8 rejected', 'publish: [redacted] rejected'],
    ['maps quota: AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY.', 'maps quota: [redacted].'],
    ['posted as xoxb-123456-7890-AbCdEf and xapp-1-A0-1-abcd', 'posted as [redacted] and [redacted]'],
    ['npm_config_cache=/tmp/npm and AKIA-docs, sk_live_short', 'npm_config_cache=/tmp/npm and AKIA-docs, sk_live_short'],
    // A bare JSON Web Token, signed or not.
    [
      '401 for eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U now',
      '401 for [redacted] now',
    ],
    ['unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. refused', 'unsigned [redacted] refused'],
    ['version 1.2.3 of eyJ-lib', 'version 1.2.3 of eyJ-lib'],
  ])('%s', (text, redacted) => {
    expect(redactCredentials(text)).toBe(redacted);
    // The first look never passes over what the full redactor would replace.
    if (redacted !== text) expect(mayHoldCredentials(text)).toBe(true);
    expect(redactCredentialsIfAny(text)).toBe(redacted);
  });

  test('the first look finds the program options that hold a password, and passes over ordinary text', () => {
    expect(redactCredentials('curl --user bob:Pw123456 https://x')).toBe('curl --user bob:[redacted] https://x');
    expect(mayHoldCredentials('curl --user bob:Pw123456 https://x')).toBe(true);
    expect(mayHoldCredentials('curl --proxy-user bob:Pw123456 x')).toBe(true);
    for (const text of ['Disk full on db-9 (97% of /var)', 'High latency on checkout', 'alertname=DiskFull instance=db-9:9100']) {
      expect(mayHoldCredentials(text)).toBe(false);
      expect(redactCredentialsIfAny(text)).toBe(text);
    }
  });

  test.each([
    ['db_password', true],
    ['API_TOKEN', true],
    ['github_pat', true],
    ['aws_secret_access_key', true],
    ['tokenizer', false],
    ['path', false],
    ['passenger_env', false],
    ['instance', false],
  ])('%s names a secret: %s', (name, secret) => {
    expect(isSecretName(name)).toBe(secret);
  });

  test('stays linear on long hostile text', () => {
    // Each input is built at 1/4 and at full size. A linear pass takes about 4 times as long on the larger; a quadratic
    // one 16 times (the old docker login pattern took 19 s on 300,000 characters). Timed against itself, not a clock,
    // so a loaded machine slows both sizes alike; a full-size run under 50 ms is linear on any machine.
    const inputs: Array<[string, (k: number) => string]> = [
      ['URL user info', (k) => 'postgres://' + 'a@'.repeat(6_000 * k)],
      ['PEM headers', (k) => '-----BEGIN PRIVATE KEY-----'.repeat(600 * k)],
      ['long URLs', (k) => ('x://' + 'b'.repeat(2_000)).repeat(6 * k)],
      ['aws configure', (k) => 'aws configure set ' + 'secret '.repeat(2_500 * k)],
      ['token: runs', (k) => 'x token: '.repeat(2_500 * k)],
      ['JWT starts', (k) => 'eyJ-'.repeat(3_000 * k)],
      ['JWT parts', (k) => ('eyJab.' + 'eyJ'.repeat(600 * k) + ' ').repeat(5)],
      ['token prefixes', (k) => 'sk_live_'.repeat(1_200 * k) + 'glpat-'.repeat(1_200 * k)],
      // docker login's -p is looked for near `login` only: a run of `login` is not read again from each one.
      ['docker login', (k) => 'docker ' + 'login '.repeat(6_000 * k)],
      ['quoted token:', (k) => '"token: '.repeat(2_500 * k)],
      // A quoted `key:` and a run of blanks with no closing quote: the blanks are the separator's alone, not also the value's.
      ['quoted key, blank run', (k) => 'token "a:' + ' '.repeat(3_000 * k)],
      ["single-quoted key, tab run", (k) => "token 'a:" + '\t'.repeat(3_000 * k)],
      ['retry:', (k) => 'retry: '.repeat(2_500 * k)],
      ['a name without end', (k) => 'a-'.repeat(7_500 * k) + ':'],
      ['user info runs', (k) => 'https://x@'.repeat(1_200 * k)],
      ['query parameters', (k) => 'https://x?' + 'sig=a&'.repeat(2_500 * k)],
      ['Basic', (k) => 'Basic ' + 'A'.repeat(12_000 * k)],
    ];
    const took = (text: string): number => {
      const started = process.hrtime.bigint();
      redactCredentials(text);
      redactCredentials(text, { wholeValues: true });
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    const slow: string[] = [];
    for (const [name, make] of inputs) {
      const small = make(1);
      const large = make(4);
      took(small);
      let smallMs = Infinity;
      let largeMs = Infinity;
      for (let round = 0; round < 2; round++) {
        smallMs = Math.min(smallMs, took(small));
        largeMs = Math.min(largeMs, took(large));
      }
      if (largeMs >= 50 && largeMs / Math.max(smallMs, 1) >= 10) slow.push(`${name}: ${smallMs.toFixed(1)} → ${largeMs.toFixed(1)} ms`);
    }
    expect(slow).toEqual([]);
    expect(redactCredentials('docker ' + 'login '.repeat(50_000))).toBe('docker ' + 'login '.repeat(50_000));
  });

  test('reads no value after a key that is not a credential\'s: a run of `a:` costs about what prose of its length does', () => {
    // Each `a:` is a key; its value (up to 4,096 characters of `a:a:…`) was read before the key was found not to be a
    // credential's, about 24 µs a character. Timed against prose of the same length, not a clock.
    const took = (text: string): number => {
      let best = Infinity;
      for (let round = 0; round < 3; round++) {
        const started = process.hrtime.bigint();
        redactCredentials(text);
        best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e6);
      }
      return best;
    };
    const hostile = took('token ' + 'a:'.repeat(15_000));
    const prose = took('token ' + 'a '.repeat(15_000));
    const slow = hostile >= 50 && hostile / Math.max(prose, 1) >= 10 ? `${hostile.toFixed(1)} ms against ${prose.toFixed(1)} ms of prose` : null;
    expect(slow).toBeNull();
  });
});

describe('a credential named in alert text is redacted when its value looks like one, not prose', () => {
  test.each([
    // A title goes to every root message and page: prose after a name that only looks like a credential's stays.
    'auth-service: 5xx rate 12% on POST /v1/login',
    'secret-manager: sync of 14 secrets failed with 503',
    'pat-rollout: canary 10% failing',
    'Authorization: denied for user svc-backup (policy p-1234)',
    'token: expired for 3 service accounts',
    'password: incorrect for db user reporting',
    'k8s secret: prod/db-credentials mounted',
    'error in step secret: fetch_from_vault failed',
    'backup failed\nsecret: prod/db-credentials not found in vault',
    '• token: rotated by ops on Monday',
    '> auth-service: 5xx rate 12% on POST /v1/login',
  ])('kept: %s', (text) => {
    expect(redactCredentialsIfAny(text)).toBe(text);
  });

  test.each([
    // A scheme and a token: all after the scheme.
    ['Authorization: Token abcdef0123456789', 'Authorization: Token [redacted]'],
    ['Authorization: Basic dXNlcjpodW50ZXIy (from the proxy)', 'Authorization: Basic [redacted] (from the proxy)'],
    // A single word alone on its line, maybe with a comment, as a config file writes it: whatever it looks like.
    ['db:\n  password: hunter2\n  user: app', 'db:\n  password: [redacted]\n  user: app'],
    ['token: expired', 'token: [redacted]'],
    ['[client]\npassword = hunter2 # prod\nuser = app', '[client]\npassword = [redacted]\nuser = app'],
    ["- api_key: 'two words'\nnext", "- api_key: '[redacted]'\nnext"],
    ['X-Api-Key: abcdefgh', 'X-Api-Key: [redacted]'],
    // Where only a header stands (curl -v, -H): its value whole.
    ['< Set-Cookie: sid=abc; Path=/; HttpOnly\n< Server: nginx', '< Set-Cookie: [redacted]\n< Server: nginx'],
    ['curl -H "Cookie: theme=dark; sid=abc" https://x', 'curl -H "Cookie: [redacted]" https://x'],
    ['spring.datasource.password = hunter2', 'spring.datasource.password = [redacted]'],
    // A first word that looks like a credential: that word only.
    ['token: abc123XYZ789 for user etl', 'token: [redacted] for user etl'],
    ['password: Hunter2Secret, said the log', 'password: [redacted], said the log'],
    ['login failed, token = abc123XYZ789 for user x', 'login failed, token = [redacted] for user x'],
    // The value taken whole, an escaped quote inside it included.
    ['token: ab\\"cd1234xyz', 'token: [redacted]'],
    ['retry: token: ab\\"cd1234xyz failed', 'retry: token: [redacted] failed'],
    ['{"msg": "token: abc123XYZ789"}', '{"msg": "token: [redacted]"}'],
    // Shapes the history hid and Slack and the pager showed.
    ['upstream said Basic dXNlcjpodW50ZXIy', 'upstream said Basic [redacted]'],
    ['https://a.blob.core.windows.net/c?sv=1&sig=AbCdEf1234', 'https://a.blob.core.windows.net/c?sv=1&sig=[redacted]'],
    ['geocode https://maps.example.com/api/geocode/json?key=abcdefgh12345678 failed', 'geocode https://maps.example.com/api/geocode/json?key=[redacted] failed'],
    ['callback https://app.example.com/oauth/cb?code=AbCdEf1234567890== 400', 'callback https://app.example.com/oauth/cb?code=[redacted] 400'],
    ['{"Authorization": "Token abcdef0123456789"}', '{"Authorization": "Token [redacted]"}'],
    ['"Authorization": "Basic dXNlcjpodW50ZXIy", "routing_key": "R0ut1ngKey"', '"Authorization": "Basic [redacted]", "routing_key": "[redacted]"'],
    ['<https://x.example.com/cb?code=AbCd1234|Sign in>', '<https://x.example.com/cb?code=[redacted]|Sign in>'],
  ])('%s', (text, shown) => {
    expect(redactCredentialsIfAny(text)).toBe(shown);
  });

  test('a JSON key that only starts with a secret\'s word is not a credential; Basic before prose is prose', () => {
    const text = '{"secret_name": "prod/db-credentials", "token_type": "bearer", "password": "x y"} Basic checks failed';
    expect(redactCredentialsIfAny(text)).toBe('{"secret_name": "prod/db-credentials", "token_type": "bearer", "password": "[redacted]"} Basic checks failed');
  });

  // What alerts say every day: hostnames, runbook and Grafana links, image tags, commits, ids, pods, ARNs, titles.
  test.each([
    'High CPU on ip-10-0-3-17.eu-west-1.compute.internal',
    'DiskFull: /var/lib/postgresql at 97% on db-prod-01:9100',
    'Runbook: https://runbooks.example.com/postgres/replication-lag#check-wal',
    'See https://grafana.example.com/d/abc123XYZ/api-latency?orgId=1&var-env=prod&from=now-6h&to=now',
    'Deploy of registry.example.com/payments/api:v2.14.3-rc1 failed',
    'image ghcr.io/acme/checkout@sha256:9b2f4c1e8d7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c pulled',
    'Rollout stuck at commit 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a',
    'Incident 7f3c9a2e-4b1d-4e8f-9a6c-2d5e8f1b3c7a reopened',
    'Pod checkout-api-7d9f8b6c5-x2x4z CrashLoopBackOff in namespace payments',
    'Lambda arn:aws:lambda:eu-west-1:123456789012:function:token-refresher throttled',
    'IAM role arn:aws:iam::123456789012:role/secrets-reader denied s3:GetObject',
    'token-refresher: 5 consecutive failures',
    'auth-gateway: p99 latency 2.3s over 500ms SLO',
    'session-store: redis evictions 1200/s',
    'password-reset: email queue backlog 4500',
    'api-key-rotation: job did not run since 2026-12-01',
    'cookie-consent banner: JS error rate 4%',
    'signature-verifier: 37 invalid webhooks in 5m',
    'Secret prod/db-credentials will expire in 3 days',
    'ExternalSecret payments/stripe-api-key failed to sync: SecretSyncedError',
    'k8s secret payments-db-credentials not found in namespace payments',
    'cert-manager: certificate api-example-com expires in 7 days',
    'Vault token TTL below 1h for role ci-deployer',
    'OAuth token endpoint https://login.example.com/oauth2/token returned 503',
    'Kafka consumer group router lag 12034 on alerts.v1 partition 3',
    'TargetDown: job=node-exporter instance=10.0.4.21:9100',
    'Check https://status.example.com/incidents/01HF3K5Q2X7Y8Z9A0B1C2D3E4F',
    'KubeJobFailed: backup-postgres-28391234 in namespace db',
    'Error: connect ECONNREFUSED 10.0.2.15:5432',
    'nginx: upstream timed out (110: Connection timed out) while reading response header',
    'Jenkins build #4821 of main failed at stage integration-tests',
    'GitHub Actions: workflow deploy.yml run 7342981 failed on main@a1b2c3d',
    'Elasticsearch cluster health RED: 3 unassigned shards on logs-2026.12.06',
    'SSL handshake failed for api.example.com:443 (certificate has expired)',
    'RDS db-prod-replica-2 replica lag 412s',
    'systemd: token-sync.service entered failed state',
    'Credential provider aws-iam returned AccessDenied for eks-node-role',
    'CloudFront distribution E2QWRUHAPOMQZL 5xx rate 3.2%',
    'Terraform plan drift in module.vpc.aws_subnet.private[2]',
    'PagerDuty integration key rotation scheduled for 2026-12-10',
    'basic-auth proxy: 401s from 10.0.8.4 over 5 minutes',
    'Secret: rotated by vault-agent on 2026-12-05',
  ])('kept as written: %s', (text) => {
    expect(redactCredentialsIfAny(text)).toBe(text);
  });

  test.each([
    // Credentials, by the rule the history reads keys with: a suffix after case, `_`, `-` and `.` are set aside.
    ['routing_key', true], ['authorization', true], ['Proxy-Authorization', true], ['cookie', true], ['Set-Cookie', true],
    ['signature', true], ['X-Slack-Signature', true], ['access_key', true], ['integration_key', true], ['geniekey', true],
    ['secretkey', true], ['pwd', true], ['pass', true], ['DB_PASS', true], ['mysqlPwd', true], ['GITHUB_PAT', true],
    ['db_password', true], ['api_token', true], ['x_secret', true], ['passphrase', true], ['aws_secret_access_key', true],
    ['dsn', true], ['client_credentials', true],
    // Keys that only start with a secret's word: their value is read as text.
    ['secret_name', false], ['token_bucket', false], ['token_type', false], ['token_name', false], ['token_id', false],
    ['api_key_id', false], ['password_policy', false], ['private_key_path', false], ['secret_store', false],
    ['credential_provider', false], ['bypass', false], ['compass', false], ['tokens', false], ['path', false], ['PWD_DIR', false],
  ])('%s is a credential key: %s', (key, credential) => {
    expect(isCredentialKey(key)).toBe(credential);
  });
});
