import { redactCredentials } from './credentials';

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
  ])('%s', (text, redacted) => {
    expect(redactCredentials(text)).toBe(redacted);
  });

  test('stays linear on long hostile text', () => {
    const inputs = [
      'postgres://' + 'a@'.repeat(50_000),
      '-----BEGIN PRIVATE KEY-----'.repeat(5_000),
      ('x://' + 'b'.repeat(2_000)).repeat(50),
      'aws configure set ' + 'secret '.repeat(20_000),
    ];
    const started = process.hrtime.bigint();
    for (const text of inputs) redactCredentials(text);
    // Generous: a quadratic pattern takes minutes here; linear ones take milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e9).toBeLessThan(5);
  });
});
