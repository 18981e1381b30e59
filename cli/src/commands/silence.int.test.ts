/**
 * `alertbus silence add` against the real history API (a process, with real Kafka and Postgres): the flags are
 * checked before a request is sent, and what the API refuses is told in the words of the command line.
 */
import { ensureDatabase } from '@alertbus/common';
import { dropTestDatabase } from '../../../test/support/db';
import { runCli } from '../../../test/support/cli';
import { Stack } from '../../../test/support/stack';

const TOKEN = 'silence-cli-int-operator-token';
let stack: Stack;
let url: string[];

const add = (...args: string[]) => runCli('silence', 'add', ...args, ...url);

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  stack = new Stack({ HISTORY_API_TOKENS: `alice:operator:${TOKEN}` });
  await stack.start('history');
  url = ['--url', stack.url('history')];
  process.env.ALERTBUS_TOKEN = TOKEN;
}, 300_000);

afterAll(async () => {
  delete process.env.ALERTBUS_TOKEN;
  await stack?.stopAll();
  await dropTestDatabase();
});

describe('flags are checked before the request, naming the flags', () => {
  test('neither --duration nor --ends-at', async () => {
    const r = await add('--matcher', 'team=db', '--comment', 'upgrade');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('give exactly one of --duration (e.g. 2h) and --ends-at (an ISO 8601 time)');
    expect(r.stderr).not.toMatch(/endsAt|\b400\b/);
  });

  test('both --duration and --ends-at', async () => {
    const r = await add('--matcher', 'team=db', '--comment', 'upgrade', '--duration', '2h', '--ends-at', '2099-01-01T00:00:00Z');
    expect(r).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('give exactly one of --duration (e.g. 2h) and --ends-at (an ISO 8601 time), not both') });
  });

  test('a blank --comment', async () => {
    const r = await add('--matcher', 'team=db', '--duration', '2h', '--comment', '  ');
    expect(r).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('--comment is blank: say why the alerts are silenced') });
  });

  test('--help says --comment is required, and that --duration or --ends-at is', async () => {
    const r = await runCli('silence', 'add', '--help');
    expect(r.stdout).toMatch(/--comment <text>\s+why \(required\)/);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('this or --ends-at is required');
  });
});

describe("the API's refusals name the flags", () => {
  test('an unselective matcher asks for --allow-all, not "allowAll"', async () => {
    const r = await add('--matcher', 'alertname=~".+"', '--duration', '1h', '--comment', 'noise');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('400 the matchers would silence every alert (each accepts a missing label or any value: alertname=~".+"): pass --allow-all, with a --comment saying why, to silence everything');
    expect(r.stderr).not.toContain('allowAll');
  });

  test('a bad --starts-at and an --ends-at before it', async () => {
    const bad = await add('--matcher', 'team=db', '--duration', '1h', '--comment', 'x', '--starts-at', 'tomorrow');
    expect(bad).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('400 invalid --starts-at: must be a date-time with its offset') });
    const order = await add('--matcher', 'team=db', '--comment', 'x', '--starts-at', '2099-01-02T00:00:00Z', '--ends-at', '2099-01-01T00:00:00Z');
    expect(order).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('400 --ends-at must be after --starts-at') });
  });

  test('a matcher with a label of an API field name is quoted back as written', async () => {
    const r = await add('--matcher', 'endsAt=~".*"', '--duration', '1h', '--comment', 'x');
    expect(r.stderr).toContain('any value: endsAt=~".*"): pass --allow-all');
  });
});

describe("single-quoted matcher values (they would never match)", () => {
  test('POST /api/silences answers 400 saying how to write it', async () => {
    const res = await fetch(`${stack.url('history')}/api/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ matchers: ["team='db'"], duration: '1h', comment: 'db upgrade' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe(
      `bad matcher "team='db'": single quotes would be part of the value; write team=db or team="db"`,
    );
  });

  test('silence add shows the same message', async () => {
    const r = await add('--matcher', "team='db'", '--duration', '1h', '--comment', 'db upgrade');
    expect(r).toMatchObject({ exitCode: 1, stderr: expect.stringContaining(`400 bad matcher "team='db'": single quotes would be part of the value; write team=db or team="db"`) });
  });
});
