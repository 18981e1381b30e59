import { commandLine, runText, TailBuffer, withoutSecrets } from './run';
import { fitText } from './notify-client';

describe('alertbus run', () => {
  it('keeps the last N lines of output as it streams, across chunk boundaries', () => {
    const tail = new TailBuffer(3);
    tail.push('one\ntw');
    tail.push('o\nthree\nfour\nfi');
    expect(tail.text()).toBe('three\nfour\nfi');
    tail.push('ve\n');
    expect(tail.text()).toBe('three\nfour\nfive');
    expect(new TailBuffer(0).text()).toBe('');
  });

  it('writes the command line back as a shell would read it', () => {
    expect(commandLine(['sh', '-c', "echo 'boom'; exit 3"])).toBe(`sh -c 'echo '\\''boom'\\''; exit 3'`);
    expect(commandLine(['./export.sh', '--full', 'a=b'])).toBe('./export.sh --full a=b');
  });

  it('posts command line, host, exit status, duration and the last lines', () => {
    const text = runText({ argv: ['make', 'deploy'], host: 'ci-7', status: 2, durationMs: 83_000, tail: 'error: boom', tailLines: 20 });
    expect(text).toContain('*Command:* `make deploy`');
    expect(text).toContain('*Host:* ci-7');
    expect(text).toContain('*Exit status:* 2');
    expect(text).toContain('*Duration:* 1m23s');
    expect(text).toContain('```\nerror: boom\n```');
    expect(runText({ argv: ['x'], host: 'h', status: 127, note: 'could not start: spawn x ENOENT', durationMs: 3, tail: '', tailLines: 20 })).toContain(
      '*Exit status:* 127 (could not start: spawn x ENOENT)\n*Duration:* 3ms\n*Last 20 lines of output:*\n(no output)',
    );
  });

  it('keeps the end of a text longer than ingest accepts', () => {
    const long = `${'a'.repeat(20_000)}THE END`;
    const fitted = fitText(long, 100);
    expect(Array.from(fitted)).toHaveLength(100);
    expect(fitted.startsWith('…')).toBe(true);
    expect(fitted.endsWith('THE END')).toBe(true);
    expect(fitText('short', 100)).toBe('short');
  });
});

describe('what a run posts leaves out the credentials in its command line and output', () => {
  test.each([
    ["backup.sh --password=hunter2 --verbose", 'backup.sh --password=[redacted] --verbose'],
    ['deploy --api-key abc123 now', 'deploy --api-key [redacted] now'],
    ['GITHUB_TOKEN=ghp_abc123 make', 'GITHUB_TOKEN=[redacted] make'],
    ['curl -H "Authorization: Bearer sk_live_abcdef123456" https://x', 'curl -H "Authorization: Bearer [redacted]" https://x'],
    ['connecting to postgres://app:Sup3rSecret@db/prod', 'connecting to postgres://[redacted]@db/prod'],
    ['posting with xoxb-1111-2222-abcdef', 'posting with [redacted]'],
    ['tokens left: 3 of 10, see the README', 'tokens left: 3 of 10, see the README'],
    // Output: curl -v headers, a quoted value, and lines that only look like headers.
    ['> Authorization: Basic YWRtaW46aHVudGVyMg==\n< HTTP/1.1 401', '> Authorization: Basic [redacted]\n< HTTP/1.1 401'],
    ['x-api-key: 9f8e7d6c5b4a\nnext line', 'x-api-key: [redacted]\nnext line'],
    ['backup: --password="two words" done', 'backup: --password=[redacted] done'],
    ["PGPASSWORD='two words' pg_dump db", 'PGPASSWORD=[redacted] pg_dump db'],
    ['Unexpected token: } in JSON at position 3', 'Unexpected token: } in JSON at position 3'],
    ['Authentication failed: bad password for bob', 'Authentication failed: bad password for bob'],
    // JSON, Python and YAML shapes, and shell exports.
    ['{"password": "PW12secret", "api_key":"PW13secret"}', '{"password": "[redacted]", "api_key":"[redacted]"}'],
    ['{"user": "bob", "db_password": "two \\" words", "n": 1}', '{"user": "bob", "db_password": "[redacted]", "n": 1}'],
    ['{"token": 12345, "user": "bob"}', '{"token": [redacted], "user": "bob"}'],
    ["{'password': 'PW14secret', 'secret':'x y'}", "{'password': '[redacted]', 'secret':'[redacted]'}"],
    ['db:\n  password: PW15 secret # prod\n  user: app', 'db:\n  password: [redacted]\n  user: app'],
    ["- api_key: 'PW16 secret'\nnext", "- api_key: '[redacted]'\nnext"],
    ['export GITHUB_PAT=ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'export GITHUB_PAT=[redacted]'],
    ['export MY_GH_PAT="PW17 secret"; export PATH=/usr/bin PATTERN=x', 'export MY_GH_PAT=[redacted]; export PATH=/usr/bin PATTERN=x'],
    ['cloning with github_pat_11ABCDEFG0123456789_abcdefghijklmnop', 'cloning with [redacted]'],
    // `pass` and `pwd` as a whole part of a name (DB_PASS, --pass, MYSQL_PWD), not inside a word or the working directory.
    ['DB_PASS=hunter2 ./migrate; PASS_FILE=/run/pw', 'DB_PASS=[redacted] ./migrate; PASS_FILE=[redacted]'],
    ['MYSQL_PWD=hunter2 mysql; PASSPHRASE=two gpg', 'MYSQL_PWD=[redacted] mysql; PASSPHRASE=[redacted] gpg'],
    ['PWD=/home/app OLDPWD=/tmp PASSENGER_ENV=prod bypass=1', 'PWD=/home/app OLDPWD=/tmp PASSENGER_ENV=prod bypass=1'],
    // INI and .env files with spaces around `=`, at a line's start.
    ['[client]\npassword = hunter2 # prod\nuser = app', '[client]\npassword = [redacted]\nuser = app'],
    ['  db_password = "two words"\nhost = db', '  db_password = "[redacted]"\nhost = db'],
    // A bare value goes on past a quote inside it, and past a backslash-escaped quote or space, as a shell reads the word.
    ['token=ab\\"cd ef', 'token=[redacted] ef'],
    ['--password=ab\\ cd rest', '--password=[redacted] rest'],
    ['mysql -uroot --password=x\\"y\\"z rest', 'mysql -uroot --password=[redacted] rest'],
    ['password=ab"cd ef', 'password=[redacted] ef'],
  ])('%s', (text, posted) => {
    expect(withoutSecrets(text)).toBe(posted);
  });

  // As the title and text show a command line: commandLine quotes a word with spaces, and a ' as '\''.
  test.each<[argv: string[], posted: string]>([
    [['curl', '-u', 'admin:hunter2', 'https://jenkins.corp/job/x/build'], 'curl -u admin:[redacted] https://jenkins.corp/job/x/build'],
    [['curl', '-u', 'admin:two words', '-H', 'Accept: x', 'https://x'], "curl -u 'admin:[redacted]' -H 'Accept: x' https://x"],
    [['curl', '--user=admin:hunter2', 'https://x'], 'curl --user=admin:[redacted] https://x'],
    [['curl', '-uadmin:hunter2', 'https://x'], 'curl -uadmin:[redacted] https://x'],
    [['curl', '-H', 'Authorization: Basic YWRtaW46aHVudGVyMg==', 'https://x'], "curl -H 'Authorization: Basic [redacted]' https://x"],
    [['curl', '-H', 'X-API-Key: 9f8e7d6c5b4a', 'https://x'], "curl -H 'X-API-Key: [redacted]' https://x"],
    [['curl', '-H', 'X-Auth-Token:abc123', 'https://x'], 'curl -H X-Auth-Token:[redacted] https://x'],
    [['curl', '--header', 'Cookie: session=abc; theme=dark', 'https://x'], "curl --header 'Cookie: [redacted]' https://x"],
    [['curl', '-H', 'Accept: application/json', 'https://x'], "curl -H 'Accept: application/json' https://x"],
    [['mysql', '-uroot', '-phunter2', 'prod'], 'mysql -uroot -p[redacted] prod'],
    [['mysqldump', '-uroot', '-ptwo words', '-e', 'select 1'], "mysqldump -uroot '-p[redacted]' -e 'select 1'"],
    [['mysql', '-uroot', '-p', 'prod'], 'mysql -uroot -p prod'], // -p alone asks for the password
    [['sshpass', '-p', 'hunter2', 'ssh', 'host'], 'sshpass -p [redacted] ssh host'],
    [['redis-cli', '-a', 'hunter2', 'ping'], 'redis-cli -a [redacted] ping'],
    [['pg_dump', '--password=hunter 2', 'db'], "pg_dump '--password=[redacted]' db"],
    [['pg_dump', "--password=it's 2", 'db'], "pg_dump '--password=[redacted]' db"],
    [['deploy', '--token', 'two words'], 'deploy --token [redacted]'],
    [['docker', 'run', '-u', '1000:1000', 'img'], 'docker run -u 1000:1000 img'], // not curl: a uid:gid
    [['mysql', '--pass', 'hunter2', 'prod'], 'mysql --pass [redacted] prod'],
    [['sh', '-c', 'DB_PASS=x ./run'], "sh -c 'DB_PASS=[redacted]'"], // a quoted word that starts with a secret's name goes whole
  ])('%j', (argv, posted) => {
    expect(withoutSecrets(commandLine(argv))).toBe(posted);
  });
});

test('the posted text keeps its markup: a value at the end of the command line or output does not swallow a backtick or fence', () => {
  const text = runText({
    argv: ['/tmp/x/leak.sh', '--password', 'PW0secret', 'SECRET=PWXsecret'],
    host: 'ci-7',
    status: 1,
    durationMs: 5,
    tail: 'PGPASSWORD=PW1secret',
    tailLines: 20,
  });
  expect(text).toContain('*Command:* `/tmp/x/leak.sh --password [redacted] SECRET=[redacted]`\n*Host:* ci-7');
  expect(text).toContain('```\nPGPASSWORD=[redacted]\n```');
  expect(text).not.toMatch(/PW\dsecret|PWXsecret/);
});

test('--tail 0 posts no output, an unterminated last line included', () => {
  const t = new TailBuffer(0);
  t.push('line 1\nsecret at the end without a newline');
  expect(t.text()).toBe('');
});
