import { isSecretName, mayHoldCredentials, redactCredentials, redactCredentialsIfAny } from './credentials';

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
    const inputs = [
      'postgres://' + 'a@'.repeat(50_000),
      '-----BEGIN PRIVATE KEY-----'.repeat(5_000),
      ('x://' + 'b'.repeat(2_000)).repeat(50),
      'aws configure set ' + 'secret '.repeat(20_000),
      'x token: '.repeat(20_000),
      'eyJ-'.repeat(25_000),
      ('eyJab.' + 'eyJ'.repeat(5_000) + ' ').repeat(5),
      'sk_live_'.repeat(10_000) + 'glpat-'.repeat(10_000),
      // docker login's -p is looked for near `login` only: a run of `login` is not read again from each one.
      'docker ' + 'login '.repeat(50_000),
    ];
    const started = process.hrtime.bigint();
    for (const text of inputs) redactCredentials(text);
    expect(redactCredentials('docker ' + 'login '.repeat(50_000))).toBe('docker ' + 'login '.repeat(50_000));
    // Generous: a quadratic pattern takes minutes here; linear ones take milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(5);
  });
});
