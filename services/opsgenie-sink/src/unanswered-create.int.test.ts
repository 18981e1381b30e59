/**
 * A create whose answer was lost (a timeout, a dropped connection, a kill -9 of the sink) may still be pending at
 * the pager: Opsgenie answers 202 and processes the request later, and a request in flight may not even have been
 * read. The next attempt looks the alias up first; "no open alert" must not mean "never arrived" while the earlier
 * create can still be pending, or the SRE gets a second create. Real Kafka and Postgres, the sink with its runner,
 * the Opsgenie stand-in over HTTP (its processing held until the test lets it go).
 */
import { createServer, type AddressInfo } from 'node:net';
import { createPool, type Pool } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '@alertbus/stand-ins';
import type { Kafka } from 'kafkajs';
import { dropTestDatabase } from '../../../test/support/db';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import type { OpsgenieSinkConfig } from './config';
import { startOpsgenieSink, type OpsgenieSink } from './index';
import { resultOf as resultOfCommand } from './test-support/results';
import { createCommand, testSinkConfig } from './test-support/commands';

let kafka: Kafka;
let producer: EventProducer;
let og: OpsgenieStandIn;
let sink: OpsgenieSink | undefined;
let pool: Pool;

/** Requests wait to be processed until the test calls processPending (longer than any test runs). */
const HELD_MS = 60 * 60_000;

const startSink = async (overrides: Partial<OpsgenieSinkConfig>) => {
  await sink?.close();
  sink = await startOpsgenieSink(testSinkConfig(og, { statusPolls: 2, ...overrides }));
};

const resultOf = (cmd: AnyEnvelope) => resultOfCommand(kafka, cmd);

const creates = (alias: string) => og.state.calls.filter((c) => c.route === 'create' && (c.body as { alias?: string } | undefined)?.alias === alias);
const lookups = (alias: string) => og.state.calls.filter((c) => c.route === 'getAlert' && c.identifier === alias);

beforeAll(async () => {
  kafka = await testKafka('opsgenie-unanswered-create');
  producer = new EventProducer(kafka);
  await producer.connect();
  og = await startOpsgenieStandIn();
  pool = createPool(process.env.DATABASE_URL!, 1);
});

afterAll(async () => {
  await sink?.close();
  await producer?.disconnect();
  await og?.close();
  await pool?.end();
  await dropTestDatabase();
});

afterEach(() => {
  og.state.processPending();
  og.state.processingDelayMs = 0;
  og.state.clearFaults();
});

const resultsOf = async (cmd: AnyEnvelope) => (await readTopic(kafka, TOPICS.deliveries)).filter((x) => x.event?.causationId === cmd.id).map((x) => x.event!);

/** The pager, once it processed the create, shows one open alert, and the sink recorded it with its id: created once. */
async function expectCreatedOnce(cmd: AnyEnvelope): Promise<void> {
  const result = await resultOf(cmd);
  const alerts = og.state.alerts.filter((a) => a.alias === cmd.alias);
  expect(alerts).toEqual([expect.objectContaining({ count: 1, status: 'open' })]);
  expect(result).toMatchObject({ type: 'PagerAlertCreated', data: { alertId: alerts[0]!.id } });
  expect(creates(cmd.alias)).toHaveLength(1);
}

test('a create accepted but not processed yet when its alias is looked up is found once processed: created once', async () => {
  // Long enough that it cannot run out while the test runs, however slow the machine.
  await startSink({ createSettleMs: HELD_MS });
  og.state.processingDelayMs = HELD_MS;
  const cmd = createCommand('alertmanager:unanswered-pending');
  og.state.loseAnswerNext('create');
  await producer.send([cmd]);

  // The sink got no answer and looks the alias up: not there yet (the create waits at the pager). It must keep
  // looking rather than create again.
  await waitFor(() => lookups(cmd.alias).length >= 3 || creates(cmd.alias).length >= 2, {
    timeoutMs: 60_000,
    what: 'the alias looked up while the first create is pending (or a second create)',
  });
  expect(creates(cmd.alias)).toEqual([expect.objectContaining({ status: 202, answerLost: true })]);
  expect(og.state.alerts.filter((a) => a.alias === cmd.alias)).toEqual([]);

  og.state.processPending();
  await expectCreatedOnce(cmd);
});

test('a create that never reached the pager is sent again once it can no longer be pending', async () => {
  await startSink({ createSettleMs: 1_000 });
  const cmd = createCommand('alertmanager:unanswered-dropped');
  og.state.dropNext('create');
  await producer.send([cmd]);
  const result = await resultOf(cmd);
  const alerts = og.state.alerts.filter((a) => a.alias === cmd.alias);
  expect(alerts).toEqual([expect.objectContaining({ count: 1 })]);
  expect(result).toMatchObject({ type: 'PagerAlertCreated', data: { alertId: alerts[0]!.id, attempts: 2 } });
  expect(creates(cmd.alias).map((c) => c.status)).toEqual([0, 202]);
  expect(lookups(cmd.alias).length).toBeGreaterThanOrEqual(1);
});

test('a create refused at connect never reached the pager: retried when it is back, without waiting for it to show up', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  // Nobody listens on the port yet: connection refused. The settle time would outlast the test if it applied.
  await startSink({ apiUrl: `http://127.0.0.1:${port}`, createSettleMs: HELD_MS });
  const cmd = createCommand('alertmanager:refused');
  await producer.send([cmd]);
  await waitFor(async () => (await readTopic(kafka, TOPICS.deliveries)).some((x) => x.event?.causationId === cmd.id && x.event.type === 'DeliveryDelayed'), {
    timeoutMs: 60_000,
    intervalMs: 200,
    what: 'the create delayed',
  });
  // Between two attempts the ledger says "delayed", not "started": nothing reached the pager, so nothing to look for.
  // Each retry marks the row "started" while it runs, so the row is read until it is between attempts; were refused
  // connects recorded as unanswered, it would stay "started" and this would time out.
  await waitFor(
    async () => {
      const { rows } = await pool.query('SELECT status FROM sink_commands WHERE command_id = $1', [cmd.id]);
      return rows[0]?.status === 'delayed';
    },
    { timeoutMs: 30_000, intervalMs: 50, what: 'the refused create recorded as delayed between attempts' },
  );

  const late = await startOpsgenieStandIn({ port });
  try {
    const result = await resultOf(cmd);
    expect(result).toMatchObject({ type: 'PagerAlertCreated' });
    expect(late.state.alerts).toEqual([expect.objectContaining({ alias: cmd.alias, count: 1 })]);
    expect(late.state.calls.filter((c) => c.route === 'getAlert')).toEqual([]);
  } finally {
    await late.close();
  }
});

// A 202 only says "queued". A create whose request status could not be learned was recorded as created, with the
// requestId only: a page that may never have been made counted as delivered, and nothing looked again.
test('a create accepted whose request status stays unknown (404, not processed) is not recorded until the pager shows the alert: created once, with its id', async () => {
  await startSink({ createSettleMs: HELD_MS });
  og.state.processingDelayMs = HELD_MS;
  const cmd = createCommand('alertmanager:status-unknown');
  await producer.send([cmd]);

  await waitFor(() => lookups(cmd.alias).length >= 3 || creates(cmd.alias).length >= 2, {
    timeoutMs: 60_000,
    what: 'the alias looked up while the accepted create is not processed (or a second create)',
  });
  const waiting = await resultsOf(cmd);
  expect(waiting.map((e) => e.type)).toEqual(['DeliveryDelayed']);
  expect(waiting[0]!.data).toMatchObject({ target: 'pager', lastError: expect.stringMatching(/^opsgenie create alert accepted \(request [0-9a-f-]+\) but its status is still unknown/) });
  expect(creates(cmd.alias)).toEqual([expect.objectContaining({ status: 202 })]);

  og.state.processPending();
  await expectCreatedOnce(cmd);
});

test('a create whose request-status call gets no answer (503) is checked by its alias: recorded with the alert id, created once', async () => {
  await startSink({ createSettleMs: HELD_MS });
  og.state.failFor('requestStatus', { status: 503 }, HELD_MS);
  const cmd = createCommand('alertmanager:status-unanswered');
  await producer.send([cmd]);

  const result = await resultOf(cmd);
  const alerts = og.state.alerts.filter((a) => a.alias === cmd.alias);
  expect(alerts).toEqual([expect.objectContaining({ count: 1, status: 'open' })]);
  expect(result).toMatchObject({ type: 'PagerAlertCreated', data: { alertId: alerts[0]!.id, attempts: 1 } });
  expect(creates(cmd.alias)).toHaveLength(1);
  expect(lookups(cmd.alias).length).toBeGreaterThanOrEqual(1);
});
