/**
 * kill -9 of every service, 6 times each (FAULT_KILLS), at random points of a stream: each service is killed a random 0–6 s
 * after it was last ready and started again at once, every service on its own schedule, so kills also land while
 * another service is still restarting. The schedule comes from a seed that is printed; FAULT_SEED=<seed> replays
 * it. Afterwards every accepted alert is posted once and paged once, resolved ones closed once, nothing is
 * dead-lettered and history is complete.
 */
import { dropTestDatabase } from '../support/db';
import { faultSeed, killSchedule } from '../support/fault-schedule';
import { FAULT_TEST_TIMEOUT_MS, report, sleep, startFaultRun, type FaultRun } from '../support/fault-run';
import type { ServiceName } from '../support/stack';

const SERVICES: ServiceName[] = ['ingest', 'router', 'slack-sink', 'opsgenie-sink', 'history'];
/** 30 kills in all; each restart waits for the service to be ready, so every kill adds its start-up to the run. */
const TIMES = Number(process.env.FAULT_KILLS ?? 6);

let run: FaultRun | undefined;

beforeAll(async () => {
  run = await startFaultRun({ stream: { prefix: 'kil', ratePerSec: 2, resolveEvery: 4, resolveLag: 10 } });
}, 180_000);

afterAll(async () => {
  await run?.stop();
  await dropTestDatabase();
});

test(`kill -9 of each service ${TIMES} times mid-stream: every accepted alert posted and paged exactly once`, async () => {
  const { full, stream } = run!;
  const seed = faultSeed('kill -9 schedule');
  const schedule = killSchedule({ seed, services: SERVICES, times: TIMES, maxPauseMs: 6_000 });
  const kills: Record<string, number> = {};

  stream.start();
  await sleep(5_000);
  const started = Date.now();
  await Promise.all(
    SERVICES.map(async (service) => {
      for (const pause of schedule[service]) {
        await sleep(pause);
        await full.stack.kill9(service);
        kills[service] = (kills[service] ?? 0) + 1;
        await full.stack.start(service);
      }
    }),
  );
  const killingSeconds = Math.round((Date.now() - started) / 1000);
  await sleep(5_000);
  const result = await run!.finish();

  const actual = { ...result.summary, kills };
  const expected = { ...result.expected, kills: Object.fromEntries(SERVICES.map((s) => [s, TIMES])) };
  report(`kill -9 ×${TIMES} per service over ${killingSeconds} s, seed ${seed}`, actual, expected, result.details);
  expect(actual).toEqual(expected);
}, FAULT_TEST_TIMEOUT_MS);
