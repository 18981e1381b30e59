import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { postJson } from './post';

let server: Server;
let url: string;
const seen: Array<{ method?: string; type?: string; length?: string; body: string; port?: number }> = [];
const answers: number[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method, type: req.headers['content-type'], length: req.headers['content-length'], body, port: req.socket.remotePort });
      res.statusCode = answers.shift() ?? 202;
      res.end('{"status":"ok"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/alertmanager`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('posts the body as JSON with its byte length and answers the status, one kept-alive connection for requests in turn', async () => {
  answers.push(202, 503);
  const body = JSON.stringify({ alerts: [{ labels: { summary: 'disk full — ünïcode' } }] });
  expect(await postJson(url, body)).toBe(202);
  expect(await postJson(url, body)).toBe(503);
  expect(await postJson(url, '{}')).toBe(202);
  expect(seen.map(({ method, type, length, body: b }) => [method, type, length, b])).toEqual([
    ['POST', 'application/json', String(Buffer.byteLength(body)), body],
    ['POST', 'application/json', String(Buffer.byteLength(body)), body],
    ['POST', 'application/json', '2', '{}'],
  ]);
  // The same client socket each time: the connection was kept alive, not opened per request.
  expect(new Set(seen.map((s) => s.port)).size).toBe(1);
});

test('rejects when nothing listens', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  await expect(postJson(`http://127.0.0.1:${port}/`, '{}')).rejects.toThrow(/ECONNREFUSED/);
});
