/**
 * A TCP proxy in front of a server (Postgres, in the tests that use it) that a test can cut: `refuse` closes
 * every connection and refuses new ones (a server that is down), `blackhole` accepts new connections and never
 * answers (a server that is unreachable but silent, e.g. a dropped route). `restore` lets traffic through again.
 */
import * as net from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

export interface CuttableProxy {
  /** host:port of the proxy. */
  host: string;
  port: number;
  /** The same URL with the proxy's host and port in place of the target's. */
  url(target: string): string;
  cut(mode: CutMode): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(targetHost: string, targetPort: number): Promise<CuttableProxy> {
  let mode: CutMode | 'open' = 'open';
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server = net.createServer((client) => {
    track(client);
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'blackhole') return; // held open, never answered
    const upstream = net.connect(targetPort, targetHost);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: '127.0.0.1',
    port,
    url(target) {
      const u = new URL(target);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut(m) {
      mode = m;
      for (const s of sockets) s.destroy();
    },
    restore() {
      mode = 'open';
      for (const s of sockets) s.destroy(); // blackholed connections: their clients time out anyway
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
