/**
 * A service waiting at start for Kafka or Postgres: alive (/healthz), not ready (/readyz names what it waits for and
 * the last error, never a password), `alertbus_start_waiting{dependency}` 1 while it waits, and a stop ends the wait.
 */
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { PID_HEADER, registerOpsRoutes, startOpsServer } from './ops-server';
import { untilReachable } from './retry';
import { refuseWhileStarting, StartAborted, StartWaits } from './start-waits';

const quiet = { warn: () => undefined, info: () => undefined };
const refused = (port = 9092) => Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED' });

async function waitingGauge(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric('alertbus_start_waiting')!.get();
  return Object.fromEntries(metric.values.map((v) => [v.labels.dependency, v.value]));
}

describe('StartWaits with untilReachable', () => {
  test('while a step is refused: not ready naming the dependency and its last error, gauge 1; then the service checks, gauge 0', async () => {
    const registry = new Registry();
    const waits = new StartWaits(registry);
    let serviceCheck: string | null = 'restoring state';
    const ops = await startOpsServer(0, registry, { ready: waits.readiness(() => serviceCheck) });
    try {
      expect(await waitingGauge(registry)).toEqual({ kafka: 0, postgres: 0 });
      let release!: () => void;
      const answering = new Promise<void>((r) => (release = r));
      let attempts = 0;
      const started = untilReachable(
        'Kafka',
        async () => {
          if (++attempts === 1) throw refused();
          await answering;
          return 'topics';
        },
        { log: quiet, waits, sleep: async () => undefined },
      );
      // The second attempt hangs until released: the service is waiting now.
      while (attempts < 2) await new Promise((r) => setImmediate(r));

      const health = await fetch(`${ops.url}/healthz`);
      expect(health.status).toBe(200);
      const notReady = await fetch(`${ops.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: 'not ready', reason: 'starting: waiting for Kafka (connect ECONNREFUSED 127.0.0.1:9092)' });
      const metrics = await (await fetch(`${ops.url}/metrics`)).text();
      expect(metrics).toMatch(/^alertbus_start_waiting\{dependency="kafka"\} 1$/m);
      expect(metrics).toMatch(/^alertbus_start_waiting\{dependency="postgres"\} 0$/m);

      release();
      await expect(started).resolves.toBe('topics');
      expect(await waitingGauge(registry)).toEqual({ kafka: 0, postgres: 0 });
      expect(await (await fetch(`${ops.url}/readyz`)).json()).toEqual({ status: 'not ready', reason: 'starting' });

      waits.done();
      // From now on exactly the service's own checks.
      expect(await (await fetch(`${ops.url}/readyz`)).json()).toEqual({ status: 'not ready', reason: 'restoring state' });
      serviceCheck = null;
      expect((await fetch(`${ops.url}/readyz`)).status).toBe(200);
    } finally {
      await ops.app.close();
    }
  });

  test('the reason shown never carries a connection string password, and is bounded', () => {
    const waits = new StartWaits(new Registry());
    waits.waiting('Postgres', `could not connect to postgres://alertbus:s3cret-pw@db.internal:5432/alertbus: ${'x'.repeat(2_000)}`);
    const problem = waits.problem()!;
    expect(problem).not.toContain('s3cret-pw');
    expect(problem).toContain('postgres://alertbus:[redacted]@db.internal:5432/alertbus');
    expect(problem.length).toBeLessThan(400);
  });

  test('a stop while it waits ends the wait at once with StartAborted', async () => {
    const stop = new AbortController();
    const waits = new StartWaits(new Registry(), stop.signal);
    let attempts = 0;
    const waiting = untilReachable(
      'Postgres',
      async () => {
        attempts++;
        throw refused(5432);
      },
      // An hour's back-off: only the stop can end this wait within the test.
      { log: quiet, waits, policy: { minBackoffMs: 3_600_000, maxBackoffMs: 3_600_000 } },
    );
    while (attempts < 1) await new Promise((r) => setImmediate(r));
    stop.abort();
    await expect(waiting).rejects.toBeInstanceOf(StartAborted);
    expect(attempts).toBe(1);
  });
});

describe('refuseWhileStarting: a port that serves the ops routes and the service own routes', () => {
  function app() {
    const registry = new Registry();
    const waits = new StartWaits(registry);
    const server = Fastify();
    let written = 0;
    // Declared before the gate, as the services' builders do.
    registerOpsRoutes(server, registry, { ready: () => 'the Kafka producer is not connected' });
    void server.register(async (webhooks) => {
      webhooks.addHook('onRequest', async (req, reply) => {
        if (req.headers.authorization !== 'Bearer right') return reply.code(401).send({ error: 'unauthorized' });
      });
      webhooks.post('/webhooks/generic', async (_req, reply) => reply.code(202).send({ accepted: ++written }));
    });
    refuseWhileStarting(server, waits);
    return { server, waits, registry, written: () => written };
  }

  test('while starting: alive, not ready with why, webhooks 503 with Retry-After after authentication, nothing taken', async () => {
    const { server, waits, written } = app();
    waits.waiting('Kafka', 'connect ECONNREFUSED 127.0.0.1:9092');

    expect((await server.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await server.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.headers[PID_HEADER], ready.json()]).toEqual([
      503,
      String(process.pid),
      { status: 'not ready', reason: 'starting: waiting for Kafka (connect ECONNREFUSED 127.0.0.1:9092)' },
    ]);
    expect((await server.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^alertbus_start_waiting\{dependency="kafka"\} 1$/m);

    const anonymous = await server.inject({ method: 'POST', url: '/webhooks/generic', payload: { title: 'x' } });
    expect(anonymous.statusCode).toBe(401);
    const sent = await server.inject({ method: 'POST', url: '/webhooks/generic', headers: { authorization: 'Bearer right' }, payload: { title: 'x' } });
    expect([sent.statusCode, sent.headers['retry-after'], sent.json()]).toEqual([
      503,
      '5',
      { error: 'starting', message: 'starting: waiting for Kafka (connect ECONNREFUSED 127.0.0.1:9092); nothing was written, try again' },
    ]);
    expect((await server.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);
    expect(written()).toBe(0);
    await server.close();
  });

  test('once started the routes and the service readiness checks answer as without the gate', async () => {
    const { server, waits, written } = app();
    waits.done();
    const sent = await server.inject({ method: 'POST', url: '/webhooks/generic', headers: { authorization: 'Bearer right' }, payload: { title: 'x' } });
    expect(sent.statusCode).toBe(202);
    expect(written()).toBe(1);
    expect((await server.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'not ready', reason: 'the Kafka producer is not connected' });
    await server.close();
  });
});
