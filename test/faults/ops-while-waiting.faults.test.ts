/**
 * What an SRE (and Kubernetes' probes) sees of a service that waits at start for Kafka or PostgreSQL: the process is
 * alive (/healthz 200, so the startup probe does not restart it in a loop), not ready (/readyz 503 naming what it
 * waits for, never the database password), and says so in `alertbus_start_waiting`; ingest refuses webhooks with a
 * 503 its senders retry. A SIGTERM during the wait stops the process cleanly. Once both answer, every service becomes
 * ready, the gauge drops to 0, and the alerts sent afterwards are posted and paged once. Before, the ports refused
 * every connection until the waits were over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { entryArgs, serviceDef } from '@alertbus/launcher';
import { dropTestDatabase } from '../support/db';
import { fixture } from '../support/fixtures';
import { FAULT_ENV, FAULT_TEST_TIMEOUT_MS, pollUntil, report, sleep, startFaultRun, type FaultRun } from '../support/fault-run';
import { freePort, type ServiceName } from '../support/stack';
import { refusingInfrastructure, type TcpProxy } from '../support/tcp-proxy';

const SERVICES: ServiceName[] = ['history', 'router', 'slack-sink', 'opsgenie-sink', 'ingest'];
const PASSWORD = `pw${process.pid}canary`;
const root = resolve(__dirname, '..', '..');

let kafkaProxy: TcpProxy | undefined;
let pgProxy: TcpProxy | undefined;
let run: FaultRun | undefined;
let lone: ChildProcess | undefined;

afterAll(async () => {
  if (lone && lone.exitCode === null && lone.signalCode === null) lone.kill('SIGKILL');
  await run?.stop();
  await kafkaProxy?.close();
  await pgProxy?.close();
  await dropTestDatabase();
});

interface OpsView {
  healthz: number | 'no answer';
  readyz: number | 'no answer';
  reason: string;
  /** The dependencies alertbus_start_waiting says it waits for (value 1). */
  waitingFor: string[];
  metrics: string;
}

async function opsView(base: string): Promise<OpsView> {
  const get = async (path: string) => {
    try {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(5_000) });
      return { status: res.status, text: await res.text() };
    } catch {
      return { status: 'no answer' as const, text: '' };
    }
  };
  const [healthz, readyz, metrics] = [await get('/healthz'), await get('/readyz'), await get('/metrics')];
  let reason = '';
  try {
    reason = (JSON.parse(readyz.text) as { reason?: string }).reason ?? '';
  } catch {
    // not JSON: no answer yet
  }
  const waitingFor = [...metrics.text.matchAll(/^alertbus_start_waiting\{dependency="(\w+)"[^}]*\} 1$/gm)].map((m) => m[1]!);
  return { healthz: healthz.status, readyz: readyz.status, reason, waitingFor, metrics: metrics.text };
}

const waitingView = (v: OpsView) => v.healthz === 200 && v.readyz === 503 && /^starting: waiting for (Kafka|Postgres)/.test(v.reason) && v.waitingFor.length > 0;

test(
  'started while Kafka and PostgreSQL refuse: alive, not ready saying why, webhooks 503, SIGTERM stops; then ready and every alert delivered once',
  async () => {
    const infra = await refusingInfrastructure();
    ({ kafkaProxy, pgProxy } = infra);
    const { direct } = infra;
    // The local server trusts every local connection: a password in the URL is only there to be kept out of sight.
    const withPassword = new URL(pgProxy.url(direct.toString()));
    withPassword.username ||= 'postgres';
    withPassword.password = PASSWORD;

    // Ports known before the services are ready: the test asks them while they wait.
    const ports: Record<ServiceName, number> = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await freePort()]))) as never;
    const portEnv = Object.fromEntries(SERVICES.map((s) => [serviceDef(s).portVar, String(ports[s])]));
    const starting = startFaultRun({
      env: { ...portEnv, DATABASE_URL: withPassword.toString() },
      brokers: [`127.0.0.1:${kafkaProxy.port}`],
      stream: { prefix: 'oww', ratePerSec: 2, resolveEvery: 4, resolveLag: 4 },
    });
    const failedEarly = starting.then(
      () => null,
      (err: Error) => err,
    );

    // A second ingest beside the stack, to be stopped with SIGTERM while it waits.
    const lonePort = await freePort();
    const child = spawn(process.execPath, entryArgs(serviceDef('ingest'), root), {
      cwd: root,
      env: { ...process.env, ...FAULT_ENV, KAFKA_BROKERS: `127.0.0.1:${kafkaProxy.port}`, INGEST_PORT: String(lonePort), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    lone = child;
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));

    // While both refuse: every service answers its port, alive and not ready, and says what it waits for. The wait is
    // for processes to come up on a loaded machine, not a bound on the answer.
    const bases = [...SERVICES.map((s) => `http://127.0.0.1:${ports[s]}`), `http://127.0.0.1:${lonePort}`];
    const views = await Promise.all(bases.map((b) => pollUntil(() => opsView(b), waitingView, 240_000, 500)));
    const waiting = Object.fromEntries(SERVICES.map((s, i) => [s, views[i]!])) as Record<ServiceName, OpsView>;
    const loneView = views[SERVICES.length]!;
    const webhookAnswer = await fetch(`http://127.0.0.1:${ports.ingest}/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fixture('alertmanager/zulip_firing_two_alerts.json')),
    }).then(
      async (res) => ({ status: res.status as number | 'no answer', retryAfter: res.headers.get('retry-after'), body: await res.text() }),
      () => ({ status: 'no answer' as const, retryAfter: null, body: '' }),
    );

    // SIGTERM while it waits: it exits by itself, cleanly, and its port is closed.
    child.kill('SIGTERM');
    let giveUp: NodeJS.Timeout | undefined;
    const loneExit = await Promise.race([exited, new Promise<string>((r) => (giveUp = setTimeout(() => r('still running after 60 s'), 60_000)))]);
    clearTimeout(giveUp);
    if (typeof loneExit === 'string') child.kill('SIGKILL');
    const loneAfter = (await opsView(`http://127.0.0.1:${lonePort}`)).healthz;

    kafkaProxy.restore();
    pgProxy.restore();
    const early = await Promise.race([failedEarly, sleep(0).then(() => null)]);
    if (early) throw early;
    run = await starting;

    // Started (startFullStack waited for every /readyz to answer 200): the service's own checks answer now.
    const started: Record<string, OpsView> = {};
    for (const s of SERVICES) started[s] = await opsView(`http://127.0.0.1:${ports[s]}`);
    run.stream.start();
    await sleep(8_000);
    const settled = await run.finish();

    const shown = [...Object.values(waiting), ...Object.values(started), loneView].map((v) => `${v.reason}\n${v.metrics}`).join('\n');
    const actual = {
      ...settled.summary,
      'services that exited': run.full.stack.unexpectedExits(),
      'while waiting (healthz, readyz, waits for)': Object.fromEntries(
        SERVICES.map((s) => [s, [waiting[s]!.healthz, waiting[s]!.readyz, /^starting: waiting for (Kafka|Postgres)/.test(waiting[s]!.reason)]]),
      ),
      'ingest webhook while waiting': [webhookAnswer.status, webhookAnswer.retryAfter, /^\{"error":"starting"/.test(webhookAnswer.body)],
      'SIGTERM while waiting': [loneExit, loneAfter],
      'started (readyz, gauge at 1)': Object.fromEntries(SERVICES.map((s) => [s, [started[s]!.readyz, started[s]!.waitingFor]])),
      'password shown': shown.includes(PASSWORD),
    };
    const expected = {
      ...settled.expected,
      'services that exited': [],
      'while waiting (healthz, readyz, waits for)': Object.fromEntries(SERVICES.map((s) => [s, [200, 503, true]])),
      'ingest webhook while waiting': [503, '5', true],
      'SIGTERM while waiting': [{ code: 0, signal: null }, 'no answer'],
      'started (readyz, gauge at 1)': Object.fromEntries(SERVICES.map((s) => [s, [200, []]])),
      'password shown': false,
    };
    report(
      `ops while waiting (Kafka: ${kafkaProxy.stats.refused} connections refused; PostgreSQL: ${pgProxy.stats.refused})`,
      actual,
      expected,
      [...settled.details, ...SERVICES.map((s) => `${s} while waiting: ${waiting[s]!.reason}`), `ingest's webhook: ${webhookAnswer.body}`],
    );
    expect(actual).toEqual(expected);
  },
  FAULT_TEST_TIMEOUT_MS,
);
