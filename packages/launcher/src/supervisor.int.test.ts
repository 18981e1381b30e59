/**
 * The Supervisor with real child processes: "ready" only when every child answers, the first child to exit
 * is reported with the last lines it wrote, an abort or stop() during start-up leaves nothing running, and
 * stop() goes newest first.
 */
import { createServer, type Server } from 'node:http';
import { freePort, httpReady } from './services';
import { ProcessExitedError, Supervisor, type ProcessSpec } from './supervisor';
import { alive } from '../../../test/support/proc';

/** A child that serves HTTP on `port` after `delayMs`, and says goodbye on SIGTERM. */
function server(name: string, port: number, o: { delayMs?: number; ignoreTerm?: boolean } = {}): ProcessSpec {
  const script = `
    const http = require('node:http');
    console.log('${name} starting');
    setTimeout(() => http.createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), ${o.delayMs ?? 0});
    process.on('SIGTERM', () => { console.log('${name} got SIGTERM'); if (!${Boolean(o.ignoreTerm)}) process.exit(0); });
  `;
  return { name, command: process.execPath, args: ['-e', script], env: process.env, ready: () => httpReady(`http://127.0.0.1:${port}/`) };
}

/** A child that complains and exits, as a service with a bad configuration does. */
function failing(name: string): ProcessSpec {
  const script = `console.log('${name} loading config'); console.error('${name}: invalid configuration: FOO must be set'); process.exit(3);`;
  return { name, command: process.execPath, args: ['-e', script], env: process.env, ready: async () => false };
}

/** A child that never becomes ready. */
function hanging(name: string): ProcessSpec {
  return { name, command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], env: process.env, ready: async () => false };
}

describe('Supervisor', () => {
  let sup: Supervisor | undefined;
  afterEach(async () => {
    await sup?.stop();
    sup = undefined;
  });

  it('resolves once every child is ready, and stop() ends them newest first', async () => {
    const lines: string[] = [];
    sup = new Supervisor({ output: (name, line) => lines.push(`${name}: ${line}`) });
    await sup.start([server('db', await freePort())]);
    await sup.start([server('a', await freePort(), { delayMs: 300 }), server('b', await freePort())]);
    const pids = sup.pids();
    expect(pids).toHaveLength(3);
    expect(pids.every(alive)).toBe(true);

    await sup.stop();
    expect(pids.some(alive)).toBe(false);
    const terms = lines.filter((l) => l.endsWith('got SIGTERM'));
    expect(terms).toEqual(['b: b got SIGTERM', 'a: a got SIGTERM', 'db: db got SIGTERM']);
  });

  it('rejects as soon as a child exits during start-up, with its exit and the last lines it wrote', async () => {
    sup = new Supervisor();
    const started = sup.start([hanging('history'), failing('ingest')]);
    const err = await started.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProcessExitedError);
    expect((err as ProcessExitedError).process).toBe('ingest');
    expect((err as Error).message).toBe(
      'ingest exited during start-up (exit code 3); its log ends:\n  ingest loading config\n  ingest: invalid configuration: FOO must be set',
    );
    const [historyPid] = sup.pids();
    expect(alive(historyPid!)).toBe(true);
    await sup.stop();
    expect(alive(historyPid!)).toBe(false);
  });

  it('reports a child that exits after start-up to onFailure', async () => {
    sup = new Supervisor();
    await sup.start([server('router', await freePort())]);
    const failure = new Promise<ProcessExitedError>((resolve) => sup!.onFailure(resolve));
    process.kill(sup.pids()[0]!, 'SIGKILL');
    const err = await failure;
    expect(err.message).toBe('router exited unexpectedly (signal SIGKILL); its log ends:\n  router starting');
  });

  it('with restartCrashed, a child killed after start-up is started again after the back-off, the others untouched', async () => {
    const events: string[] = [];
    const back = new Promise<number | undefined>((resolve) => {
      sup = new Supervisor();
      sup.restartCrashed({
        initialMs: 200,
        onCrash: (e) => events.push(`${e.name} crashed (${e.how}), attempt ${e.attempt}, in ${e.delayMs} ms`),
        onBack: (e) => resolve(e.pid),
      });
    });
    const failures: string[] = [];
    sup!.onFailure((err) => failures.push(err.message));
    await sup!.start([server('db', await freePort()), server('router', await freePort())]);
    const [dbPid, routerPid] = sup!.pids();
    process.kill(routerPid!, 'SIGKILL');
    const newPid = await back;
    expect(events).toEqual(['router crashed (signal SIGKILL), attempt 1, in 200 ms']);
    expect(newPid).not.toBe(routerPid);
    expect(sup!.pids()).toEqual([dbPid, newPid]);
    expect(failures).toEqual([]);
    await sup!.stop();
    expect([dbPid!, newPid!].some(alive)).toBe(false);
  });

  it('with restartCrashed, a restarted child keeps its place in the stop order: what the others need is stopped after them', async () => {
    const lines: string[] = [];
    const back = new Promise<void>((resolve) => {
      sup = new Supervisor({ output: (name, line) => lines.push(`${name}: ${line}`) });
      sup.restartCrashed({ initialMs: 100, onBack: () => resolve() });
    });
    await sup!.start([server('db', await freePort())]);
    await sup!.start([server('router', await freePort())]);
    process.kill(sup!.pids()[0]!, 'SIGKILL');
    await back;
    await sup!.stop();
    expect(lines.filter((l) => l.endsWith('got SIGTERM'))).toEqual(['router: router got SIGTERM', 'db: db got SIGTERM']);
  });

  it('with restartCrashed, a child that keeps crashing is restarted with a doubling back-off; stop() ends the retries', async () => {
    const port = await freePort();
    // Dies just after its first readiness answer: every restart crashes soon after its start.
    const script = `require('node:http').createServer((q, s) => { s.end('ok'); setTimeout(() => process.exit(7), 100); }).listen(${port}, '127.0.0.1');`;
    const spec: ProcessSpec = { name: 'crasher', command: process.execPath, args: ['-e', script], env: process.env, ready: () => httpReady(`http://127.0.0.1:${port}/`) };
    const delays: number[] = [];
    sup = new Supervisor();
    const third = new Promise<void>((resolve) =>
      sup!.restartCrashed({
        initialMs: 100,
        maxMs: 400,
        onCrash: (e) => {
          delays.push(e.delayMs);
          if (delays.length === 4) resolve();
        },
      }),
    );
    await sup.start([spec]);
    await third;
    expect(delays).toEqual([100, 200, 400, 400]);
    await sup.stop();
    expect(sup.pids()).toEqual([]);
  });

  it('an abort during start-up rejects with its reason, and stop() leaves nothing running', async () => {
    const abort = new AbortController();
    sup = new Supervisor({ signal: abort.signal });
    await sup.start([server('db', await freePort())]);
    const outcome = sup.start([hanging('router'), hanging('ingest')]).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    const pids = sup.pids();
    expect(pids).toHaveLength(3);
    abort.abort(new Error('SIGINT'));
    expect(await outcome).toBe('SIGINT');
    await sup.stop();
    expect(pids.some(alive)).toBe(false);
  });

  it('stop() during start-up makes start() reject instead of waiting for readiness that will not come', async () => {
    sup = new Supervisor();
    const outcome = sup.start([hanging('router')]).then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    const pid = sup.pids()[0]!;
    await sup.stop();
    expect(await outcome).toBe('stopped before every process was ready');
    expect(alive(pid)).toBe(false);
  });

  it('kills a child that ignores SIGTERM once the grace period is over', async () => {
    sup = new Supervisor({ stopGraceMs: 500 });
    await sup.start([server('stubborn', await freePort(), { ignoreTerm: true })]);
    const pid = sup.pids()[0]!;
    await sup.stop();
    expect(alive(pid)).toBe(false);
    expect(sup.tail('stubborn')).toContain('stubborn got SIGTERM');
  });

  it('does not take the answer of another process holding the port for its child\'s, and reports the child\'s EADDRINUSE', async () => {
    // Another alertbus service (here this process, answering as one does) already listens on the port the child was
    // given; the child binds it only after a while, as a service does once it has joined Kafka.
    const port = await freePort();
    const impostor: Server = createServer((_q, s) => {
      s.setHeader('x-alertbus-pid', String(process.pid));
      s.end('{"status":"ready"}');
    });
    await new Promise<void>((r) => impostor.listen(port, '127.0.0.1', () => r()));
    try {
      const script = `
        setTimeout(() => require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')
          .on('error', (e) => { console.error('listen ' + e.code + ' 127.0.0.1:${port}'); process.exit(1); }), 1500);
      `;
      const spec: ProcessSpec = {
        name: 'late-binder',
        command: process.execPath,
        args: ['-e', script],
        env: process.env,
        ready: (pid) => httpReady(`http://127.0.0.1:${port}/readyz`, pid),
      };
      sup = new Supervisor();
      const err = await sup.start([spec]).then(
        () => new Error('start() resolved: another process\'s answer was taken for the child\'s'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProcessExitedError);
      expect((err as ProcessExitedError).logTail.join('\n')).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise((r) => impostor.close(r));
    }
  });

  it('takes an answer that names the child, and one that names no process (a stand-in)', async () => {
    const port = await freePort();
    const script = `require('node:http').createServer((q, s) => { s.setHeader('x-alertbus-pid', String(process.pid)); s.end('ok'); }).listen(${port}, '127.0.0.1');`;
    sup = new Supervisor();
    await sup.start([{ name: 'named', command: process.execPath, args: ['-e', script], env: process.env, ready: (pid) => httpReady(`http://127.0.0.1:${port}/`, pid) }]);
    await sup.start([{ ...server('plain', await freePort()), name: 'plain' }]);
    expect(sup.pids()).toHaveLength(2);
  });
});

describe('freePort', () => {
  it('never hands out the same port twice in a process (the kernel may hand a port just closed to the next caller)', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 600; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });
});
