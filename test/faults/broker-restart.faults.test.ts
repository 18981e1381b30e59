/**
 * The Kafka broker killed (kill -9) in the middle of a stream and started again 20 s later on the same port and
 * data dir. The run has a broker of its own (the jest run's shared one serves other test files). While it is
 * down, ingest must say it is not ready, and the stream, which retries like Alertmanager does, sees 503s or
 * connection errors; afterwards every alert that got a 2xx is delivered exactly once. A request answered 503
 * that is written later anyway shows up here too: its alert fires again after it was resolved.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalBroker, type LocalBroker } from '@alertbus/kafka';
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

const DOWN_MS = 20_000;

let dataDir: string | undefined;
let broker: LocalBroker | undefined;
let run: FaultRun | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'alertbus-fault-broker-'));
  broker = await startLocalBroker({ dataDir });
  run = await startFaultRun({
    brokers: broker.brokers,
    stream: { prefix: 'brk', ratePerSec: 2, resolveEvery: 4, resolveLag: 6 },
  });
}, 240_000);

afterAll(async () => {
  await run?.stop();
  await broker?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await dropTestDatabase();
});

test('broker killed and restarted: ingest not ready while it is down, every accepted alert delivered exactly once', async () => {
  const { full, stream } = run!;
  const port = Number(broker!.brokers[0]!.split(':')[1]);
  stream.start();
  await sleep(10_000);

  process.kill(broker!.pid, 'SIGKILL');
  await broker!.stop(); // returns at once: the process is gone; releases the handle's ties to it
  const seen: Array<number | 'no answer'> = [];
  const sinkSeen: Array<number | 'no answer'> = [];
  const downUntil = Date.now() + DOWN_MS;
  while (Date.now() < downUntil) {
    const [ingest, sink] = await Promise.all([readyzStatus(full, 'ingest', 2_000), readyzStatus(full, 'slack-sink', 2_000)]);
    seen.push(ingest);
    sinkSeen.push(sink);
    await sleep(500);
  }
  broker = await startLocalBroker({ dataDir, port });

  const readyAgain = await pollUntil(() => readyzStatus(full, 'ingest'), (s) => s === 200, 120_000);
  await sleep(10_000);
  const result = await run!.finish();

  // Only an answer counts: a /readyz that hangs says nothing (and is what the issue reports as broken).
  const firstDown = seen.findIndex((s) => typeof s === 'number' && s !== 200);
  const actual = {
    ...result.summary,
    'ingest said not ready while the broker was down': firstDown >= 0,
    'ingest said ready again while the broker was still down': firstDown >= 0 ? seen.slice(firstDown).filter((s) => s === 200).length : 0,
    'ingest ready after the restart': readyAgain === 200,
  };
  const expected = {
    ...result.expected,
    'ingest said not ready while the broker was down': true,
    'ingest said ready again while the broker was still down': 0,
    'ingest ready after the restart': true,
  };
  report(`broker down ${DOWN_MS / 1000} s (ingest /readyz while down: ${seen.join(' ')}; slack-sink: ${sinkSeen.join(' ')})`, actual, expected, result.details);
  expect(actual).toEqual(expected);
}, FAULT_TEST_TIMEOUT_MS);
