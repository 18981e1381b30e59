/**
 * A TCP proxy a test can cut, to make a server (the machine's PostgreSQL) unreachable for the services
 * without touching the server itself: point the services at the proxy, then `cut()` and `restore()`.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * How new connections fare while the proxy is cut: `refuse` resets them at once (the client sees an error),
 * `blackhole` accepts them and never answers (the client waits until its own timeout, if it has one).
 */
export type CutMode = 'refuse' | 'blackhole';

export interface ProxyStats {
  /** Connections forwarded to the target. */
  forwarded: number;
  /** Open connections reset by `cut()`. */
  dropped: number;
  refused: number;
  blackholed: number;
}

/** Resets a socket (RST, so the peer sees ECONNRESET rather than a clean end), whatever state it is in. */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export class TcpProxy {
  readonly stats: ProxyStats = { forwarded: 0, dropped: 0, refused: 0, blackholed: 0 };
  private mode: 'open' | CutMode = 'open';
  /** Forwarded connections: the client's socket and the one to the target. */
  private readonly pairs = new Set<[Socket, Socket]>();
  private readonly held = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly target: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on a free port of 127.0.0.1 and forwards every connection to `target`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, target);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `target` (a URL such as DATABASE_URL) with the proxy's host and port in place of the server's. */
  url(target: string): string {
    const u = new URL(target);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get state(): 'open' | CutMode {
    return this.mode;
  }

  /** Drops every open connection and, until `restore()`, refuses or blackholes new ones. */
  cut(mode: CutMode): void {
    this.mode = mode;
    for (const [client, upstream] of this.pairs) {
      this.stats.dropped += 1;
      reset(client);
      reset(upstream);
    }
    this.pairs.clear();
  }

  /** Forwards new connections again; connections held by a blackhole are reset, as the healed network would. */
  restore(): void {
    this.mode = 'open';
    for (const socket of this.held) reset(socket);
    this.held.clear();
  }

  async close(): Promise<void> {
    this.cut('refuse');
    this.restore();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      this.stats.refused += 1;
      reset(client);
      return;
    }
    if (this.mode === 'blackhole') {
      this.stats.blackholed += 1;
      client.pause(); // read nothing, answer nothing
      this.held.add(client);
      client.once('close', () => this.held.delete(client));
      return;
    }
    this.stats.forwarded += 1;
    const upstream = connect(this.target.port, this.target.host);
    upstream.on('error', () => undefined);
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    // A clean end on one side is passed on by pipe(); this only tidies up once either side is gone.
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', end);
    upstream.once('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/**
 * A proxy in front of the test broker (the first of KAFKA_BROKERS) and one in front of the test database
 * (DATABASE_URL), both refusing every connection until the test lets them through (`restore()`): the infrastructure a
 * stack is started against when it must start while both are down. `direct` is the database's own URL.
 */
export async function refusingInfrastructure(): Promise<{ kafkaProxy: TcpProxy; pgProxy: TcpProxy; direct: URL }> {
  const [host, port] = process.env.KAFKA_BROKERS!.split(',')[0]!.split(':');
  const kafkaProxy = await TcpProxy.start({ host: host!, port: Number(port) });
  const direct = new URL(process.env.DATABASE_URL!);
  const pgProxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
  kafkaProxy.cut('refuse');
  pgProxy.cut('refuse');
  return { kafkaProxy, pgProxy, direct };
}
