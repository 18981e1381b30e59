import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP server that is not Slack's, recording every request made to it: where a forged response_url points. */
export interface ForeignHost {
  /** Its origin, e.g. http://127.0.0.1:40123. */
  url: string;
  requests: Array<{ method?: string; path?: string; headers: IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

export async function startForeignHost(): Promise<ForeignHost> {
  const requests: ForeignHost['requests'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      requests.push({ method: req.method, path: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
