/**
 * PostgreSQL unreachable for 45 s in the middle of a stream. The services reach the machine's PostgreSQL through
 * a TCP proxy the test cuts: open connections are dropped, new ones refused for the first 20 s and then held
 * unanswered (a silent network) for 25 s; the PostgreSQL server itself is never touched. Today a sink's ledger
 * lookup fails, the consumer tries 5 times in about 3 s and dead-letters the command. Infrastructure errors must
 * only delay: afterwards every alert is posted and paged once, nothing is dead-lettered, history is complete, and
 * the sinks and history said they were not ready while their database was unreachable.
 */
import { dropTestDatabase } from '../support/db';
import {
  FAULT_TEST_TIMEOUT_MS,
  pollUntil,
  readyzStatus,
  report,
  sleep,
  startFaultRun,
  type FaultRun,
} from '../support/fault-run';
import type { ServiceName } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';

const REFUSED_MS = 20_000;
const SILENT_MS = 25_000;
const DB_SERVICES: ServiceName[] = ['slack-sink', 'opsgenie-sink', 'history'];

let proxy: TcpProxy | undefined;
let run: FaultRun | undefined;

beforeAll(async () => {
  const direct = new URL(process.env.DATABASE_URL!);
  proxy = await TcpProxy.start({ host: direct.hostname, port: Number(direct.port || 5432) });
  run = await startFaultRun({
    env: { DATABASE_URL: proxy.url(direct.toString()) },
    stream: { prefix: 'pgo', ratePerSec: 1, resolveEvery: 4, resolveLag: 6 },
  });
}, 180_000);

afterAll(async () => {
  await run?.stop();
  await proxy?.close();
  await dropTestDatabase();
});

test('PostgreSQL unreachable for 45 s: every alert posted and paged once, nothing dead-lettered, history complete', async () => {
  const { full, stream } = run!;
  stream.start();
  await sleep(10_000);

  // Readiness seen from outside while the database is away: any non-200 answer counts as "said not ready".
  const saidNotReady = new Set<ServiceName>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      await Promise.all(
        DB_SERVICES.map(async (s) => {
          const status = await readyzStatus(full, s);
          if (typeof status === 'number' && status !== 200) saidNotReady.add(s);
        }),
      );
      await sleep(1_000);
    }
  })();

  proxy!.cut('refuse');
  await sleep(REFUSED_MS);
  proxy!.cut('blackhole');
  await sleep(SILENT_MS);
  watching = false;
  await watcher;
  proxy!.restore();

  const readyAgain = await pollUntil(
    async () => (await Promise.all(DB_SERVICES.map((s) => readyzStatus(full, s)))).every((s) => s === 200),
    (ok) => ok,
    90_000,
  );
  await sleep(10_000);
  const result = await run!.finish();
  const actual = {
    ...result.summary,
    'not ready while the database was unreachable': DB_SERVICES.filter((s) => saidNotReady.has(s)),
    'ready again afterwards': readyAgain,
  };
  const expected = {
    ...result.expected,
    'not ready while the database was unreachable': DB_SERVICES,
    'ready again afterwards': true,
  };
  const { dropped, refused, blackholed } = proxy!.stats;
  report(`PostgreSQL unreachable (${dropped} connections dropped, ${refused} refused, ${blackholed} held)`, actual, expected, result.details);
  expect(refused + blackholed).toBeGreaterThan(0); // the services did try to reach it during the outage
  expect(actual).toEqual(expected);
}, FAULT_TEST_TIMEOUT_MS);
