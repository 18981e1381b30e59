import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TcpProxy } from './tcp-proxy';

let echo: Server;
let proxy: TcpProxy;

beforeEach(async () => {
  echo = createServer((s) => {
    s.on('error', () => undefined); // the proxy resets it on a cut
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  proxy = await TcpProxy.start({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
});

afterEach(async () => {
  await proxy.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

/**
 * Connects through the proxy and resolves with what happened: the echo of `text`, an error, or nothing in `ms`.
 * An echo or an error resolves it as soon as it comes, so the wait is long enough for a loaded machine; only the
 * blackhole, where silence is the answer, asks for a short one.
 */
function roundTrip(text: string, ms = 10_000): Promise<{ socket: Socket; outcome: string }> {
  return new Promise((resolve) => {
    const socket = connect(proxy.port, '127.0.0.1');
    const done = (outcome: string) => {
      clearTimeout(timer);
      resolve({ socket, outcome });
    };
    const timer = setTimeout(() => done('silence'), ms);
    socket.on('data', (d) => done(`echo ${d.toString()}`));
    socket.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    socket.on('connect', () => socket.write(text));
  });
}

test('forwards, drops open connections on a cut, refuses or blackholes new ones, and forwards again after restore', async () => {
  const open = await roundTrip('one');
  expect(open.outcome).toBe('echo one');
  const closed = new Promise<string>((r) => open.socket.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? e.message)));

  proxy.cut('refuse');
  expect(await closed).toBe('ECONNRESET');
  expect((await roundTrip('two')).outcome).toBe('ECONNRESET');

  proxy.cut('blackhole');
  const held = await roundTrip('three', 500);
  expect(held.outcome).toBe('silence');
  const released = new Promise<string>((r) => held.socket.once('error', (e: NodeJS.ErrnoException) => r(e.code ?? e.message)));

  proxy.restore();
  expect(await released).toBe('ECONNRESET');
  const back = await roundTrip('four');
  expect(back.outcome).toBe('echo four');
  back.socket.destroy();
  expect(proxy.stats).toEqual({ forwarded: 2, dropped: 1, refused: 1, blackholed: 1 });
});

test('points a URL at the proxy', () => {
  expect(proxy.url('postgres://postgres@db.example:5432/alertbus_x')).toBe(`postgres://postgres@127.0.0.1:${proxy.port}/alertbus_x`);
});
