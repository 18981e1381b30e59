/**
 * A user and password in HISTORY_URL or INGEST_URL: fetch refuses such a URL, and its error quoted the whole URL,
 * password and all, into stderr (and CI logs), saying the service could not be reached. Now the CLI says what is
 * wrong, without the password, and where the token goes instead.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

jest.setTimeout(60_000);

const BIN = resolve(__dirname, '../../bin/alertbus.js');

function alertbus(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((done) => child.once('close', (code) => done({ code, out })));
}

test.each([
  [['incidents'], { HISTORY_URL: 'http://admin:s3cr3tPW@127.0.0.1:9' }, 'must not hold a user and password: give the token in ALERTBUS_TOKEN'],
  [['notify', '-t', 'deploys', 'hello'], { INGEST_URL: 'https://svc:s3cr3tPW@127.0.0.1:9' }, 'INGEST_URL (https://[redacted]@127.0.0.1:9) must not hold a user and password: give the token in INGEST_TOKEN'],
])('alertbus %j with credentials in the URL: exit 1, told why, the password nowhere', async (args, env, message) => {
  const { code, out } = await alertbus(args, env);
  expect(code).toBe(1);
  expect(out).toContain(message);
  expect(out).not.toContain('s3cr3tPW');
});

test('an unreachable URL is named without its query', async () => {
  const { code, out } = await alertbus(['incidents'], { HISTORY_URL: 'http://127.0.0.1:9/?token=s3cr3tPW' });
  expect(code).toBe(1);
  expect(out).toContain('cannot reach the history API at http://127.0.0.1:9/?[redacted]');
  expect(out).not.toContain('s3cr3tPW');
});

test.each([
  [['incidents'], { ALERTBUS_TOKEN: 'secrettoken1234\nxyz' }, 'ALERTBUS_TOKEN holds whitespace'],
  [['notify', '-t', 'deploys', 'hello'], { INGEST_TOKEN: 'secrettoken1234\nxyz' }, 'INGEST_TOKEN holds whitespace'],
  [['run', '--tag', 'deploys', '--', 'false'], { INGEST_TOKEN: 'secret token1234' }, 'INGEST_TOKEN holds whitespace'],
])('alertbus %j with a token a header cannot carry: exit 1, told which variable, the token nowhere', async (args, env, message) => {
  const { code, out } = await alertbus(args, { HISTORY_URL: 'http://127.0.0.1:9', INGEST_URL: 'http://127.0.0.1:9', ...env });
  expect(out).toContain(message);
  expect(out).toContain('(value not shown)');
  expect(out).not.toContain('secrettoken1234');
  expect(out).not.toContain('token1234');
  expect(code).toBe(1);
});

test('an empty HISTORY_URL is unset, as INGEST_URL is: the default address is used', async () => {
  const { code, out } = await alertbus(['incidents'], { HISTORY_URL: '' });
  expect(code).toBe(1);
  expect(out).toContain('cannot reach the history API at http://127.0.0.1:8081');
});
