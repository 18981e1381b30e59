/**
 * A `commands:` webhook called over real HTTP (a local server): signed, bounded in time and size, its answer escaped,
 * and keyed by its command so that a receiver can act once when it is called again.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { makeEnvelope, validateEnvelope, type CommandWebhookRequest, type Envelope } from '@alertbus/schemas';
import { SLACK_STAND_IN_TOKEN, startSlackStandIn } from '../../../packages/stand-ins/src/slack/server';
import { SlackClient } from './client';
import { callCommandWebhook, safeUrl, webhookFailedText, webhookSignature, WEBHOOK_ANSWER_MAX } from './command-webhook';
import type { OnCallCache } from './oncall/cache';
import type { CommandSteps } from './steps';
import { ThreadCommands } from './thread-commands';

const SECRET = 'hook-secret-1';
let server: Server;
let base: string;
const seen: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
const handlers: Record<string, (res: ServerResponse) => void> = {
  '/ok': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: 'api is <!here> & fine' })),
  '/long': (res) => res.writeHead(200).end(JSON.stringify({ text: 'x'.repeat(10_000) })),
  '/long-markup': (res) => res.writeHead(200).end(JSON.stringify({ text: '<'.repeat(1_000) })),
  '/500': (res) => res.writeHead(500).end('{}'),
  '/html': (res) => res.writeHead(200).end('<html>'),
  '/notext': (res) => res.writeHead(200).end('{"ok":true}'),
  '/slow': () => undefined,
};

const request: CommandWebhookRequest = { command: 'status', text: 'status api', groups: { service: 'api' }, user: 'U0BOB', team: 'T1', channel: 'C1', threadTs: '1.000100', messageTs: '1.000100' };
const KEY = 'cmd-0001';
const call = (path: string, secret: string | undefined = SECRET, timeoutMs = 2_000, nowMs = 1_700_000_000_000) =>
  callCommandWebhook({ url: `${base}${path}?token=abc`, timeoutMs, secret, nowMs, idempotencyKey: KEY }, request);

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      handlers[new URL(req.url!, 'http://x').pathname]!(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('the request is the JSON of the command, signed v0=HMAC-SHA256("v0:{timestamp}:{body}"); the answer\'s text comes back escaped', async () => {
  expect(await call('/ok')).toEqual({ outcome: 'answered', text: 'api is &lt;!here&gt; &amp; fine', httpStatus: 200 });
  const last = seen[seen.length - 1]!;
  expect(JSON.parse(last.body)).toEqual(request);
  expect(last.headers['x-alertbus-request-timestamp']).toBe('1700000000');
  expect(last.headers['x-alertbus-signature']).toBe(webhookSignature(SECRET, '1700000000', last.body));
  expect(webhookSignature(SECRET, '1700000000', last.body)).toMatch(/^v0=[0-9a-f]{64}$/);
  expect(last.headers['idempotency-key']).toBe(KEY);
});

test('two attempts of one command carry the same Idempotency-Key, though their timestamps and signatures differ', async () => {
  const before = seen.length;
  await call('/ok', SECRET, 2_000, 1_700_000_000_000);
  await call('/ok', SECRET, 2_000, 1_700_000_090_000);
  const [first, second] = seen.slice(before);
  expect([first!.headers['idempotency-key'], second!.headers['idempotency-key']]).toEqual([KEY, KEY]);
  expect(first!.headers['x-alertbus-request-timestamp']).not.toBe(second!.headers['x-alertbus-request-timestamp']);
});

test('a long answer is cut', async () => {
  const r = await call('/long');
  expect(r.outcome === 'answered' && Array.from(r.text).length).toBe(WEBHOOK_ANSWER_MAX);
});

test('an answer cut after escaping never ends in half an escape', async () => {
  const r = await call('/long-markup');
  if (r.outcome !== 'answered') throw new Error(r.outcome);
  expect(Array.from(r.text).length).toBeLessThanOrEqual(WEBHOOK_ANSWER_MAX);
  expect(r.text).toMatch(/^(&lt;)+…$/);
});

test.each([
  ['/500', 'the webhook answered HTTP 500'],
  ['/html', "the webhook's answer is not JSON"],
  ['/notext', 'the webhook\'s answer has no "text"'],
])('%s fails with a reason a person can read', async (path, error) => {
  expect(await call(path)).toMatchObject({ outcome: 'failed', error });
});

test('no answer within the timeout, an unreachable host and a missing secret fail without a call hanging', async () => {
  expect(await call('/slow', SECRET, 300)).toEqual({ outcome: 'failed', error: 'the webhook gave no answer within 0.3 s' });
  expect(await callCommandWebhook({ url: 'http://127.0.0.1:1/x', timeoutMs: 2_000, secret: SECRET, nowMs: 0, idempotencyKey: KEY }, request)).toEqual({ outcome: 'failed', error: 'the webhook could not be reached' });
  const before = seen.length;
  expect(await callCommandWebhook({ url: `${base}/ok`, timeoutMs: 2_000, secret: undefined, nowMs: 0, idempotencyKey: KEY }, request)).toMatchObject({ outcome: 'failed', error: expect.stringContaining('COMMAND_WEBHOOK_SECRET') });
  expect(seen.length).toBe(before);
});

test('what is recorded and said never carries the URL\'s query (it may hold a token)', () => {
  expect(safeUrl('https://user:pw@hooks.example.com/a/b?token=s3cret')).toBe('https://hooks.example.com/a/b');
  // A secret in the path, as webhook URLs often carry it; the readable parts stay.
  expect(safeUrl('https://hooks.example.com/services/T0001/B0002/X9f3kQ2vLm8Zp4Rt7Wy1')).toBe('https://hooks.example.com/services/T0001/B0002/[redacted]');
  expect(safeUrl('https://ci.example.com/job/restart-deployment/build')).toBe('https://ci.example.com/job/restart-deployment/build');
  expect(webhookFailedText('st<at>us', 'the webhook answered HTTP 500')).toBe('The command `st&lt;at&gt;us` failed: the webhook answered HTTP 500.');
});

// The call and its record are two steps: a crash or a Postgres failure between them makes the next attempt call again.
test('a call whose record failed is made again with the same Idempotency-Key: the command\'s id', async () => {
  const slack = await startSlackStandIn({ channels: [{ id: 'C1', name: 'ops' }] });
  try {
    const client = new SlackClient({ token: SLACK_STAND_IN_TOKEN, apiUrl: slack.url, timeoutMs: 5_000, log: pino({ level: 'silent' }) });
    const saved = new Map<string, Record<string, unknown>>();
    let failCalledOnce = true;
    const steps = {
      load: async () => new Map(saved),
      save: async (_id: string, step: string, data: Record<string, unknown>) => {
        if (step === 'called' && failCalledOnce) {
          failCalledOnce = false;
          throw new Error('Connection terminated unexpectedly'); // Postgres, between the call and its record
        }
        saved.set(step, data);
      },
    } as unknown as CommandSteps;
    let nowMs = 1_700_000_000_000;
    const commands = new ThreadCommands({
      clients: { forTeam: async () => ({ client, cacheTeam: '' }) },
      cache: {} as OnCallCache,
      steps,
      log: pino({ level: 'silent' }),
      webhookSecret: SECRET,
      now: () => (nowMs += 30_000),
    });
    const asked = await client.postMessage({ channel: 'C1', text: '@alertbus status api' } as never);
    const at = '2026-05-01T12:00:00.000Z';
    const cmd = makeEnvelope({
      id: 'cmd-webhook-0001',
      type: 'CallCommandWebhook',
      alias: 'slack:T1:C1:1.000100',
      occurredAt: at,
      recordedAt: at,
      source: 'router',
      data: { rule: { path: 'commands.handlers[0]', rulesVersion: 'test' }, channel: 'C1', threadTs: asked.ts, url: `${base}/ok`, timeoutMs: 2_000, request },
    } as never) as Envelope<'CallCommandWebhook'>;
    expect(validateEnvelope(cmd)).toMatchObject({ ok: true });

    const before = seen.length;
    await expect(commands.execute(cmd, 1)).rejects.toThrow(/Connection terminated/);
    expect(await commands.execute(cmd, 2)).toMatchObject({ type: 'CommandWebhookAnswered', data: { outcome: 'answered' } });
    const calls = seen.slice(before);
    expect(calls.map((c) => c.headers['idempotency-key'])).toEqual([cmd.id, cmd.id]);
    // The question and one answer in its thread.
    expect(slack.state.messages.map((m) => m.thread_ts)).toEqual([undefined, asked.ts]);
  } finally {
    await slack.close();
  }
});
