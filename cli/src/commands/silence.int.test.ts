/** `alertbus silence add` against the real history API (a process, with real Kafka and Postgres). */
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
