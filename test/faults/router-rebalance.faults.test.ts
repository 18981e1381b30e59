/**
 * A second router started the way an orchestrator starts one — `alertbus serve router` with ROUTER_INSTANCE_ID=1
 * — next to the stack's router (instance 0) shares the work: both are assigned partitions and both decide
 * alerts. Killed -9 mid-stream, its partitions move to the other within the session timeout (plus the time to
 * restore their state), and every accepted alert is still posted and paged exactly once.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort, httpReady, Supervisor } from '@alertbus/launcher';
import { dropTestDatabase } from '../support/db';
import { FAULT_ENV, FAULT_TEST_TIMEOUT_MS, report, sleep, startFaultRun, type FaultRun } from '../support/fault-run';

const BIN = resolve(__dirname, '../../cli/bin/alertbus.js');
const SESSION_TIMEOUT_MS = Number(FAULT_ENV.ROUTER_SESSION_TIMEOUT_MS);

/** Log lines a router wrote, parsed (pino JSON; anything else is skipped). */
interface LogLine {
  time: number;
  msg: string;
  partitions?: number[];
}

function parseLog(lines: readonly string[]): LogLine[] {
  return lines.flatMap((l) => {
    try {
      const j = JSON.parse(l) as { time: string; msg: string; partitions?: number[] };
      return [{ time: Date.parse(j.time), msg: j.msg, partitions: j.partitions }];
    } catch {
      return [];
    }
  });
}

/** The partitions the latest restore gave the router (its latest assignment, restored and ready to decide). */
const restoredPartitions = (log: LogLine[]) => log.filter((l) => l.msg === 'router state restored').at(-1)?.partitions ?? [];

async function inputsDecided(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^alertbus_router_inputs_total\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0);
}

let run: FaultRun | undefined;
const served = new Supervisor({ stopGraceMs: 20_000, readyTimeoutMs: 120_000, output: (_n, line) => servedOutput.push(line) });
const servedOutput: string[] = [];

beforeAll(async () => {
  // Info level: the routers' "partitions assigned" and "router state restored" lines are what this test reads.
  process.env.STACK_LOG_LEVEL = 'info';
  run = await startFaultRun({ stream: { prefix: 'reb', ratePerSec: 3, resolveEvery: 4, resolveLag: 8 } });
}, 240_000);

afterAll(async () => {
  await served.stop();
  await run?.stop();
  await dropTestDatabase();
});

test('alertbus serve router (instance 1) shares the partitions; killed -9 mid-stream, instance 0 takes them over and nothing is lost or sent twice', async () => {
  const { full, stream } = run!;
  stream.start();

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await served.start([
    {
      name: 'router-1',
      command: process.execPath,
      args: [BIN, 'serve', 'router'],
      // The stack's own settings (its rules file among them): two routers with different rules would decide differently.
      env: { ...process.env, ...run!.env, ROUTER_INSTANCE_ID: '1', ROUTER_PORT: String(port), LOG_LEVEL: 'info' },
      ready: (pid) => httpReady(`${url}/readyz`, pid),
    },
  ]);

  // Both instances hold partitions and both decide: the work is shared.
  const stackRouterLog = () => parseLog(readFileSync(full.stack.logFile('router'), 'utf8').split('\n'));
  const deadline = Date.now() + 90_000;
  let shared = { zero: [] as number[], one: [] as number[], decidedByZero: 0, decidedByOne: 0 };
  for (;;) {
    const zeroBefore = shared.decidedByZero;
    shared = {
      zero: restoredPartitions(stackRouterLog()),
      one: restoredPartitions(parseLog(servedOutput)),
      decidedByZero: await inputsDecided(full.stack.url('router')),
      decidedByOne: await inputsDecided(url),
    };
    const disjoint = shared.zero.every((p) => !shared.one.includes(p));
    if (shared.zero.length > 0 && shared.one.length > 0 && disjoint && shared.decidedByOne > 0 && shared.decidedByZero > zeroBefore) break;
    if (Date.now() > deadline) break;
    await sleep(2_000);
  }
  expect(shared.one.length).toBeGreaterThan(0);
  expect(shared.zero.length).toBeGreaterThan(0);
  expect([...shared.zero, ...shared.one].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(shared.decidedByOne).toBeGreaterThan(0);

  // Mid-stream, with transactions of instance 1 possibly open: kill -9.
  await sleep(3_000);
  const killedAt = Date.now();
  await served.stop({ signal: 'SIGKILL' });

  // Instance 0 gets every partition back, restored, within the session timeout plus a restore.
  let takeoverMs: number | undefined;
  while (takeoverMs === undefined && Date.now() < killedAt + 120_000) {
    const all = stackRouterLog().find((l) => l.time > killedAt && l.msg === 'router state restored' && l.partitions?.length === 6);
    if (all) takeoverMs = all.time - killedAt;
    else await sleep(1_000);
  }
  await sleep(10_000);
  const result = await run!.finish();

  const actual = { ...result.summary, tookOver: takeoverMs !== undefined };
  const expected = { ...result.expected, tookOver: true };
  report(
    `router instance 1 (alertbus serve) killed -9; instance 0 held all 6 partitions again after ${takeoverMs} ms (session timeout ${SESSION_TIMEOUT_MS} ms)`,
    actual,
    expected,
    result.details,
  );
  expect(actual).toEqual(expected);
  // The group notices the dead member after at most the session timeout; what follows is one rebalance and a
  // restore of instance 1's partitions. The time is reported above (6.5 s on a quiet run); only a takeover that never
  // comes fails here, since a loaded machine stretches the rebalance and restore, and a test must not fail for that.
  expect(takeoverMs!).toBeLessThan(SESSION_TIMEOUT_MS + 120_000);
}, FAULT_TEST_TIMEOUT_MS);
