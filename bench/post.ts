import http from 'node:http';

/**
 * The steady loads' sender: a JSON POST over `node:http` on kept-alive connections, answered with its status once the
 * body has been read. `fetch` cost the bench process about a third of its CPU at 300 alerts/s (bench/README.md,
 * "Twenty-third run — the bench's own CPU"), on the same two cores as the stack it measures; a real sender runs elsewhere.
 */
const agent = new http.Agent({ keepAlive: true });

export function postJson(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
