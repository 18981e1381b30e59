/**
 * The Opsgenie stand-in as `npm start -- --stand-ins` runs it (its own process): it accepts the key the sinks were
 * given, so a shell with OPSGENIE_API_KEY set still pages, and refuses any other.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

jest.setTimeout(60_000);

const MAIN = join(__dirname, 'main.ts');
const TSX = join(__dirname, '../../../../node_modules/.bin/tsx');

async function runStandIn(env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => void }> {
  const child = spawn(TSX, [MAIN], { env: { ...process.env, OPSGENIE_STAND_IN_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^OPSGENIE_API_URL=(\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the stand-in exited (${code}) before it listened`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

const create = (url: string, key: string) =>
  fetch(`${url}/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `GenieKey ${key}` },
    body: JSON.stringify({ message: 'disk full', alias: 'a-1' }),
  }).then((r) => r.status);

test("accepts its own key and the sinks' OPSGENIE_API_KEY / ONCALL_OPSGENIE_API_KEY, refuses others", async () => {
  const standIn = await runStandIn({ OPSGENIE_API_KEY: 'key-from-the-shell', ONCALL_OPSGENIE_API_KEY: 'oncall-key', OPSGENIE_STAND_IN_KEYS: undefined });
  try {
    expect(await create(standIn.url, 'key-from-the-shell')).toBe(202);
    expect(await create(standIn.url, 'oncall-key')).toBe(202);
    expect(await create(standIn.url, 'stand-in-genie-key')).toBe(202);
    expect(await create(standIn.url, 'someone-elses-key')).toBe(401);
  } finally {
    standIn.stop();
  }
});

test('OPSGENIE_STAND_IN_WEBHOOK_URL / _AUTHORIZATION: an acknowledge is posted there with that header', async () => {
  const { createServer } = await import('node:http');
  const received: Array<{ authorization: string | undefined; body: { action: string; alert: { alias: string } } }> = [];
  let gotOne: () => void = () => undefined;
  const got = new Promise<void>((r) => (gotOne = r));
  const receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      received.push({ authorization: req.headers.authorization, body: JSON.parse(text) });
      res.writeHead(202).end();
      gotOne();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as { port: number }).port;
  const standIn = await runStandIn({ OPSGENIE_STAND_IN_WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/opsgenie`, OPSGENIE_STAND_IN_WEBHOOK_AUTHORIZATION: 'Bearer pager-token' });
  try {
    expect(await create(standIn.url, 'stand-in-genie-key')).toBe(202);
    const ack = await fetch(`${standIn.url}/v2/alerts/a-1/acknowledge?identifierType=alias`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'GenieKey stand-in-genie-key' },
      body: JSON.stringify({ user: 'pager-person' }),
    });
    expect(ack.status).toBe(202);
    await got;
    expect(received.map((r) => [r.authorization, r.body.action, r.body.alert.alias])).toEqual([['Bearer pager-token', 'Acknowledge', 'a-1']]);
  } finally {
    standIn.stop();
    await new Promise((r) => receiver.close(r));
  }
});
