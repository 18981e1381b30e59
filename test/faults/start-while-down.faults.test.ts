/**
 * The whole stack started while Kafka and PostgreSQL cannot be reached: a machine that boots with its broker or its
 * database still starting, or a deploy during their outage. The services reach both through TCP proxies that refuse
 * every connection for the first 35 s, longer than KafkaJS's own retries last (about 20 s) before the start of a
 * service fails. Every service must wait for them, saying so, and start once they answer: no service exits (before,
 * the router, the sinks and history exited within 20 s, and their Postgres steps at once), and the alerts sent
 * afterwards are all posted and paged once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropTestDatabase } from '../support/db';
import { FAULT_TEST_TIMEOUT_MS, report, sleep, startFaultRun, type FaultRun } from '../support/fault-run';
import { stackLogDir, type ServiceName } from '../support/stack';
import { refusingInfrastructure, type TcpProxy } from '../support/tcp-proxy';

const UNREACHABLE_MS = 35_000;
/** How much longer the outage may last for every service to have started and said it waits. */
const WAIT_FOR_ALL_MS = 180_000;
const WAITING = /(Kafka|Postgres) not reachable yet: waiting for it/;
const SERVICES: ServiceName[] = ['history', 'router', 'slack-sink', 'opsgenie-sink', 'ingest'];

let kafkaProxy: TcpProxy | undefined;
let pgProxy: TcpProxy | undefined;
let run: FaultRun | undefined;

afterAll(async () => {
  await run?.stop();
  await kafkaProxy?.close();
  await pgProxy?.close();
  await dropTestDatabase();
});

test(
  'started while Kafka and PostgreSQL are unreachable for 35 s: every service waits, then every alert is posted and paged once',
  async () => {
    const infra = await refusingInfrastructure();
    ({ kafkaProxy, pgProxy } = infra);
    const { direct } = infra;

    // The bootstrap connection goes through the proxy; once it answers, the clients use the broker's own address.
    const starting = startFaultRun({
      env: { DATABASE_URL: pgProxy.url(direct.toString()) },
      brokers: [`127.0.0.1:${kafkaProxy.port}`],
      stream: { prefix: 'swd', ratePerSec: 2, resolveEvery: 4, resolveLag: 4 },
    });
    const failedEarly = starting.then(
      () => null,
      (err: Error) => err,
    );
    // Unreachable for UNREACHABLE_MS, and on until every service has said it waits: on a loaded machine a service can
    // take longer than that to start at all, and would then never meet the outage (a wait for a condition, bounded).
    const saidItWaits = (s: ServiceName) => {
      const file = join(stackLogDir(), `${s}.log`);
      return existsSync(file) && WAITING.test(readFileSync(file, 'utf8'));
    };
    const allWaiting = async () => {
      await sleep(UNREACHABLE_MS);
      for (let waited = 0; waited < WAIT_FOR_ALL_MS && !SERVICES.every(saidItWaits); waited += 1_000) await sleep(1_000);
      return null;
    };
    const early = await Promise.race([failedEarly, allWaiting()]);
    kafkaProxy.restore();
    pgProxy.restore();
    if (early) throw early;
    run = await starting;

    const stack = run.full.stack;
    const waited = SERVICES.filter((s) => existsSync(stack.logFile(s)) && WAITING.test(readFileSync(stack.logFile(s), 'utf8')));
    run.stream.start();
    await sleep(15_000);
    const settled = await run.finish();

    // Every service said what it was waiting for (ingest and the router only need Kafka, the others both).
    const actual = { ...settled.summary, 'services that exited': stack.unexpectedExits(), 'services that said they waited': waited };
    const expected = { ...settled.expected, 'services that exited': [], 'services that said they waited': SERVICES };
    report(
      `started while unreachable (Kafka: ${kafkaProxy.stats.refused} connections refused; PostgreSQL: ${pgProxy.stats.refused})`,
      actual,
      expected,
      settled.details,
    );
    expect(kafkaProxy.stats.refused).toBeGreaterThan(0);
    expect(pgProxy.stats.refused).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  },
  FAULT_TEST_TIMEOUT_MS,
);
