/**
 * A flapping alert: resolved, then firing again within seconds. The router sends ClosePagerAlert for the old occurrence,
 * then CreatePagerAlert for the new one, with the same alias, in the same partition. The pager answers both 202 and
 * processes them asynchronously, in no documented order: were the create processed before the close, it would only
 * count on the still-open old alert (nobody paged), and the close would then close that alert: the new occurrence's page
 * lost. A close whose request status was still unknown after its polls is therefore confirmed before the next create for
 * its alias goes out — also after a restart of the sink in between. Real Kafka and Postgres, the sink with its runner,
 * the Opsgenie stand-in over HTTP (the close held unprocessed, as a slow pager would).
 */
import { createPool, type Pool } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { deriveId, TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '@alertbus/stand-ins';
import type { Kafka } from 'kafkajs';
import { dropTestDatabase } from '../../../test/support/db';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import type { OpsgenieSinkConfig } from './config';
import { startOpsgenieSink, type OpsgenieSink } from './index';
import { resultOf as resultOfCommand } from './test-support/results';
import { createCommand, pagerCommand, testSinkConfig } from './test-support/commands';

let kafka: Kafka;
let producer: EventProducer;
let og: OpsgenieStandIn;
let sink: OpsgenieSink | undefined;
let pool: Pool;

/** Longer than any test runs: the wait for the close is ended by the close, not by the window. */
const HELD_MS = 60 * 60_000;

const startSink = async (overrides: Partial<OpsgenieSinkConfig> = {}) => {
  await sink?.close();
  sink = await startOpsgenieSink(testSinkConfig(og, { statusPolls: 2, settleLookupIntervalMs: 100, ...overrides }));
};

const resultOf = (cmd: AnyEnvelope) => resultOfCommand(kafka, cmd);

const occurrence = (alias: string, n: number) => ({ incidentId: deriveId('incident', alias, n) });
const creates = (alias: string) => og.state.calls.filter((c) => c.route === 'create' && (c.body as { alias?: string } | undefined)?.alias === alias);
const statusCalls = (requestId: string) => og.state.calls.filter((c) => c.route === 'requestStatus' && c.url.includes(requestId));
const alertsOf = (alias: string) => og.state.alerts.filter((a) => a.alias === alias);
const writtenDown = async (alias: string) =>
  (await pool.query('SELECT request_id FROM pager_unconfirmed_closes WHERE alias = $1', [alias])).rows.map((r: { request_id: string }) => r.request_id);

/** The first occurrence paged, through the sink: one open alert. */
async function firstOccurrence(alias: string): Promise<string> {
  const create1 = createCommand(alias, occurrence(alias, 1));
  await producer.send([create1]);
  expect(await resultOf(create1)).toMatchObject({ type: 'PagerAlertCreated' });
  expect(alertsOf(alias)).toEqual([expect.objectContaining({ status: 'open', count: 1 })]);
  return alertsOf(alias)[0]!.id;
}

/** The first occurrence's close, accepted by the pager and held there unprocessed: its request id. */
async function closeLeftUnconfirmed(alias: string): Promise<string> {
  og.state.holdNext('close');
  const close1 = pagerCommand('ClosePagerAlert', alias, occurrence(alias, 1));
  await producer.send([close1]);
  return ((await resultOf(close1)).data as { requestId: string }).requestId;
}

/**
 * The new occurrence paged: the old alert closed (counted once), a new one open, created by the second create, which
 * went out only after the close was processed.
 */
async function expectSecondOccurrencePaged(alias: string, firstId: string, create2: AnyEnvelope): Promise<void> {
  const result = await resultOf(create2);
  const alerts = alertsOf(alias);
  expect(alerts).toEqual([
    expect.objectContaining({ id: firstId, status: 'closed', count: 1 }),
    expect.objectContaining({ status: 'open', count: 1 }),
  ]);
  expect(result).toMatchObject({ type: 'PagerAlertCreated', data: { alertId: alerts[1]!.id } });
  expect(creates(alias)).toHaveLength(2);
}

beforeAll(async () => {
  kafka = await testKafka('opsgenie-flapping-close');
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
  og.state.clearFaults();
});

test.each(['opsgenie', 'jsm'] as const)(
  '%s: a create right after a close whose status is still unknown waits until the close is processed: the new occurrence is paged',
  async (provider) => {
    await startSink({ provider, createSettleMs: HELD_MS });
    const alias = `alertmanager:flapping-${provider}`;
    const firstId = await firstOccurrence(alias);

    og.state.holdNext('close');
    const close1 = pagerCommand('ClosePagerAlert', alias, occurrence(alias, 1));
    const create2 = createCommand(alias, occurrence(alias, 2));
    await producer.send([close1, create2]);
    const closed = await resultOf(close1);
    // Accepted, status unknown after the polls: recorded with the requestId only (the partition moves on).
    expect(closed).toMatchObject({ type: 'PagerAlertClosed', data: { requestId: expect.any(String) } });
    expect(closed.data).not.toHaveProperty('alertId');
    const closeRequest = (closed.data as { requestId: string }).requestId;
    // Written down with the close's completion, for a restart or a rebalance (checked below, after the page).
    const writtenWhileClosePending = await writtenDown(alias);

    // The create asks for the close's status again while the close is held (or, unguarded, goes out at once).
    await waitFor(async () => statusCalls(closeRequest).length >= 5 || creates(alias).length >= 2, {
      timeoutMs: 60_000,
      what: 'the close looked up again before the create (or the create sent)',
    });
    const createsWhileClosePending = creates(alias).length;

    og.state.releaseHeld();
    await expectSecondOccurrencePaged(alias, firstId, create2);
    expect(createsWhileClosePending).toBe(1);
    expect(writtenWhileClosePending).toEqual([closeRequest]);
    // Deleted with the create's completion.
    expect(await writtenDown(alias)).toEqual([]);
  },
);

test('a close left unconfirmed before a restart of the sink is still confirmed before the next create for its alias', async () => {
  await startSink({ createSettleMs: HELD_MS });
  const alias = 'alertmanager:flapping-restart';
  const firstId = await firstOccurrence(alias);

  const closeRequest = await closeLeftUnconfirmed(alias);

  // A new process: nothing of the first one's memory, only what it wrote down.
  await startSink({ createSettleMs: HELD_MS });
  const before = statusCalls(closeRequest).length;
  const create2 = createCommand(alias, occurrence(alias, 2));
  await producer.send([create2]);
  await waitFor(async () => statusCalls(closeRequest).length >= before + 3 || creates(alias).length >= 2, {
    timeoutMs: 60_000,
    what: 'the close looked up again after the restart (or the create sent)',
  });
  const createsWhileClosePending = creates(alias).length;

  og.state.releaseHeld();
  await expectSecondOccurrencePaged(alias, firstId, create2);
  expect(createsWhileClosePending).toBe(1);
});

/** A close held unprocessed at the pager and a create right behind it, the sink's windows as given: the create's call. */
async function createBehindSlowClose(alias: string, overrides: Partial<OpsgenieSinkConfig>) {
  await startSink(overrides);
  const firstId = await firstOccurrence(alias);
  og.state.holdNext('close');
  const close1 = pagerCommand('ClosePagerAlert', alias, occurrence(alias, 1));
  const create2 = createCommand(alias, occurrence(alias, 2));
  await producer.send([close1, create2]);
  await resultOf(close1);
  const closeCall = og.state.calls.find((c) => c.route === 'close' && c.identifier === alias)!;
  return { firstId, create2, closeCall };
}

test('a pager slower than OPSGENIE_CREATE_SETTLE_MS: while the alert the close is for stays open, the create waits on for the close, and the new occurrence is paged', async () => {
  const settleMs = 1_000;
  const alias = 'alertmanager:flapping-slow-pager';
  const { firstId, create2, closeCall } = await createBehindSlowClose(alias, { createSettleMs: settleMs, closeWaitMaxMs: HELD_MS });
  // Well past the settle window: the create has not gone out (sent then, it would count on the open alert, and the
  // close, processed after it, would close that alert: nobody paged for the new occurrence).
  await waitFor(async () => Date.now() - Date.parse(closeCall.at) > 3 * settleMs && statusCalls(closeCall.requestId!).length >= 4, {
    timeoutMs: 30_000,
    what: 'the close looked up again past the settle window',
  });
  expect(creates(alias)).toHaveLength(1);
  expect(og.state.calls.some((c) => c.route === 'getAlert' && c.identifier === alias)).toBe(true);
  og.state.releaseHeld();
  await expectSecondOccurrencePaged(alias, firstId, create2);
});

test('a slow pager\'s close, read back after a restart past the settle window, still holds the next create while its alert is open', async () => {
  const windows = { createSettleMs: 1_000, closeWaitMaxMs: HELD_MS };
  await startSink(windows);
  const alias = 'alertmanager:flapping-slow-restart';
  const firstId = await firstOccurrence(alias);
  const closeRequest = await closeLeftUnconfirmed(alias);
  // A new process, well past the settle window: only the row says there is a close to wait for.
  await startSink(windows);
  await new Promise((r) => setTimeout(r, 1_500));
  const create2 = createCommand(alias, occurrence(alias, 2));
  const gets = () => og.state.calls.filter((c) => c.route === 'getAlert' && c.identifier === alias).length;
  const before = gets();
  await producer.send([create2]);
  await waitFor(async () => gets() >= before + 3 || creates(alias).length >= 2, { timeoutMs: 60_000, what: 'the alert looked up again (or the create sent)' });
  expect(creates(alias)).toHaveLength(1);
  expect(statusCalls(closeRequest).length).toBeGreaterThanOrEqual(3);
  og.state.releaseHeld();
  await expectSecondOccurrencePaged(alias, firstId, create2);
});

test('past OPSGENIE_CREATE_SETTLE_MS, a create whose alias has no open alert any more (closed in the pager) goes, the close still unprocessed', async () => {
  const settleMs = 1_000;
  const alias = 'alertmanager:flapping-closed-by-hand';
  const { create2, closeCall } = await createBehindSlowClose(alias, { createSettleMs: settleMs, closeWaitMaxMs: HELD_MS });
  await waitFor(async () => statusCalls(closeCall.requestId!).length >= 2, { timeoutMs: 30_000, what: 'the close looked up' });
  // Someone closes the old alert in Opsgenie: nothing left for the create to count on.
  og.state.openByAlias(alias)!.status = 'closed';
  expect(await resultOf(create2)).toMatchObject({ type: 'PagerAlertCreated' });
  expect(creates(alias)).toHaveLength(2);
  const create2Call = creates(alias)[1]!;
  expect(Date.parse(create2Call.at) - Date.parse(closeCall.at)).toBeGreaterThanOrEqual(settleMs - 100);
  expect(alertsOf(alias).filter((a) => a.status === 'open')).toHaveLength(1);
});

test('a close still not processed OPSGENIE_CLOSE_WAIT_MAX_MS after it was accepted holds the create no longer (and 0 keeps the settle window alone)', async () => {
  for (const [alias, waitMax, expected] of [
    ['alertmanager:flapping-wait-max', 3_000, 3_000],
    ['alertmanager:flapping-wait-off', 0, 1_000],
  ] as const) {
    const { create2, closeCall } = await createBehindSlowClose(alias, { createSettleMs: 1_000, closeWaitMaxMs: waitMax });
    expect(await resultOf(create2)).toMatchObject({ type: 'PagerAlertCreated' });
    const create2Call = creates(alias)[1]!;
    // Sent once the bound after the close's 202 was over (the close's answer came a little after the call was logged).
    const waited = Date.parse(create2Call.at) - Date.parse(closeCall.at);
    expect(waited).toBeGreaterThanOrEqual(expected - 100);
    if (waitMax === 0) expect(waited).toBeLessThan(3_000);
    expect(statusCalls(closeCall.requestId!).length).toBeGreaterThanOrEqual(2);
    og.state.releaseHeld();
  }
});

test('a close written down deletes, in its completion, the rows accepted longer ago than any create may wait for them (OPSGENIE_CLOSE_WAIT_MAX_MS), not those a slow pager may still hold a create for', async () => {
  // The settle window short, the wait for a slow pager long: the bound is the wait's.
  await startSink({ createSettleMs: 1_000, closeWaitMaxMs: HELD_MS });
  const insert = (alias: string, agoMs: number) =>
    pool.query('INSERT INTO pager_unconfirmed_closes (alias, command_id, request_id, accepted_at) VALUES ($1, $2, $3, $4)', [
      alias,
      `c-${alias}`,
      `r-${alias}`,
      new Date(Date.now() - agoMs),
    ]);
  // Another instance's closes whose aliases never paged again: one past any wait, one past the settle window only.
  const stale = 'alertmanager:flapping-stale-row';
  const slow = 'alertmanager:flapping-slow-row';
  await insert(stale, 2 * HELD_MS);
  await insert(slow, 10 * 60_000);
  const alias = 'alertmanager:flapping-prunes';
  await firstOccurrence(alias);
  const closeRequest = await closeLeftUnconfirmed(alias);
  expect(await writtenDown(alias)).toEqual([closeRequest]);
  expect(await writtenDown(stale)).toEqual([]);
  expect(await writtenDown(slow)).toEqual([`r-${slow}`]);
  og.state.releaseHeld();
});

test('a create released by the close before it and then refused for good (dead-lettered) deletes that close\'s row with its failure', async () => {
  await startSink({ createSettleMs: HELD_MS });
  const alias = 'alertmanager:flapping-create-refused';
  await firstOccurrence(alias);
  const closeRequest = await closeLeftUnconfirmed(alias);
  expect(await writtenDown(alias)).toEqual([closeRequest]);

  og.state.releaseHeld();
  og.state.failNext('create', { status: 422, body: { message: 'Request body is not processable', took: 0, requestId: 'r-422' } });
  const create2 = createCommand(alias, occurrence(alias, 2));
  await producer.send([create2]);
  expect(await resultOf(create2)).toMatchObject({ type: 'DeliveryFailed', data: { permanent: true, httpStatus: 422 } });
  expect(await writtenDown(alias)).toEqual([]);
});
