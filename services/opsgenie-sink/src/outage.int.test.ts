/**
 * Outages delay pages, they never drop them: a pager API answering 503 holds its pages back (DeliveryDelayed)
 * in incident order while Slack goes on; Postgres away (refused, or silent) pauses the sink without a dead
 * letter and makes it not ready; an outage longer than the delivery budget is said once and the pages keep waiting.
 */
import { createPool, type DeliveryRetryPolicy, type Pool } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope, type DeadLetter } from '@alertbus/schemas';
import { startOpsgenieStandIn, startSlackStandIn, type OpsgenieStandIn, type SlackStandIn } from '@alertbus/stand-ins';
import type { Kafka } from 'kafkajs';
import { TcpProxy } from '../../../test/support/tcp-proxy';
import { dropTestDatabase } from '../../../test/support/db';
import { readTopic, testKafka, type ReadRecord } from '../../../test/support/kafka';
import { Stack } from '../../../test/support/stack';
import { waitFor } from '../../../test/support/wait';
import type { OpsgenieSinkConfig } from './config';
import { startOpsgenieSink, type OpsgenieSink } from './index';
import { createCommand, pagerCommand, testSinkConfig } from './test-support/commands';

const RETRIES: DeliveryRetryPolicy = { budgetMs: 10 * 60_000, minBackoffMs: 50, maxBackoffMs: 500 };
const TOKEN = 'xoxb-outage-test';

let kafka: Kafka;
let producer: EventProducer;
let og: OpsgenieStandIn;
let slack: SlackStandIn;
let pager: OpsgenieSink | undefined;
/** The Slack sink, run as its own process (services meet only over Kafka), from this file's environment. */
let others: Stack | undefined;
let pool: Pool;
let proxy: TcpProxy;

const pagerConfig = (overrides: Partial<OpsgenieSinkConfig> = {}) =>
  testSinkConfig(og, { retryPolicy: RETRIES, infraRetry: { minBackoffMs: 100, maxBackoffMs: 1_000 }, ...overrides });

const create = (alias: string) => createCommand(alias);
const close = (alias: string) => pagerCommand('ClosePagerAlert', alias, { note: 'resolved' });
const root = (alias: string) =>
  pagerCommand('PostSlackMessage', alias, { channel: '#alerts', purpose: 'root', text: `[FIRING] ${alias}`, blocks: [] });

async function records(topic: string, of: AnyEnvelope): Promise<ReadRecord[]> {
  return (await readTopic(kafka, topic)).filter(
    (r) => r.event?.causationId === of.id || (r.event?.type === 'DeadLettered' && (r.event.data as DeadLetter).origin.value?.includes(of.id)),
  );
}

/** The result of a command (what it did, or why it failed), DeliveryDelayed aside. */
async function resultOf(cmd: AnyEnvelope, timeoutMs = 60_000): Promise<AnyEnvelope> {
  const r = await waitFor(async () => (await records(TOPICS.deliveries, cmd)).find((x) => x.event!.type !== 'DeliveryDelayed'), {
    timeoutMs,
    intervalMs: 300,
    what: `the result of ${cmd.type} ${cmd.id}`,
  });
  return r.event!;
}

const typesOf = async (cmd: AnyEnvelope) => (await records(TOPICS.deliveries, cmd)).map((r) => r.event!.type);
const callsFor = (alias: string) => og.state.calls.filter((c) => c.identifier === alias || (c.body as { alias?: string } | undefined)?.alias === alias);
const readyz = async (url: string) => (await fetch(`${url}/readyz`)).status;

beforeAll(async () => {
  kafka = await testKafka('outage-test');
  producer = new EventProducer(kafka);
  await producer.connect();
  og = await startOpsgenieStandIn();
  slack = await startSlackStandIn({ tokens: [TOKEN], channels: [{ id: 'C0ALERTS', name: 'alerts' }] });
  const db = new URL(process.env.DATABASE_URL!);
  proxy = await TcpProxy.start({ host: db.hostname, port: Number(db.port || 5432) });
  pool = createPool(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await pager?.close();
  await others?.stopAll();
  await producer?.disconnect();
  await og?.close();
  await slack?.close();
  await pool?.end();
  await proxy?.close();
  await dropTestDatabase();
});

test('with the pager API down, pages wait in incident order and Slack is not held back; afterwards each is paged once', async () => {
  pager = await startOpsgenieSink(pagerConfig());
  others = new Stack({ SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: slack.url, SLACK_TIMEOUT_MS: '5000' });
  await others.start('slack-sink');
  // The pager answers 503 with a Retry-After until the test says otherwise.
  og.state.failNext('*', { status: 503, retryAfter: 1 }, 1_000_000);
  const A = 'alertmanager:outage-a';
  const B = 'alertmanager:outage-b';
  const createA = create(A);
  const closeA = close(A);
  const createB = create(B);
  const rootA = root(A);
  await producer.send([createA, closeA, createB, rootA]);

  // Slack goes on while the pager is down.
  expect(await resultOf(rootA)).toMatchObject({ type: 'SlackMessagePosted' });
  // The pages wait, saying so, and the close never overtakes its create.
  await waitFor(async () => (await typesOf(createA)).filter((t) => t === 'DeliveryDelayed').length >= 2, { what: 'createA delayed twice', intervalMs: 300 });
  expect(await typesOf(createA)).not.toContain('PagerAlertCreated');
  expect(callsFor(A).map((c) => c.route)).not.toContain('close');
  expect((await fetch(`${pager.url}/metrics`).then((r) => r.text()))).toMatch(/alertbus_deliveries_delayed\{sink="opsgenie-sink",service="opsgenie-sink"\} [1-9]/);
  expect(await readyz(pager.url)).toBe(200); // waiting out an API outage is not being broken

  og.state.clearFaults();
  expect(await resultOf(closeA)).toMatchObject({ type: 'PagerAlertClosed' });
  expect(await resultOf(createB)).toMatchObject({ type: 'PagerAlertCreated' });
  expect(await resultOf(createA)).toMatchObject({ type: 'PagerAlertCreated' });
  const routes = callsFor(A).map((c) => `${c.route}:${c.status}`);
  expect(routes.filter((r) => r === 'create:202')).toHaveLength(1);
  expect(routes.indexOf('close:202')).toBeGreaterThan(routes.indexOf('create:202'));
  expect(routes.slice(0, routes.indexOf('create:202')).every((r) => r === 'create:503')).toBe(true);
  expect(og.state.alerts.filter((a) => a.alias === A)).toEqual([expect.objectContaining({ status: 'closed' })]);
  expect(og.state.alerts.filter((a) => a.alias === B)).toEqual([expect.objectContaining({ status: 'open' })]);
  for (const c of [createA, closeA, createB, rootA]) expect(await records(TOPICS.deadLetter, c)).toEqual([]);
  await waitFor(async () => /alertbus_deliveries_delayed\{[^}]*\} 0/.test(await fetch(`${pager!.url}/metrics`).then((r) => r.text())), {
    what: 'no delivery waiting any more',
  });
  await others.stop('slack-sink');
});

test('with Postgres unreachable the sink waits, is not ready, and dead-letters nothing; afterwards it pages once', async () => {
  await pager?.close();
  pager = await startOpsgenieSink(pagerConfig({ databaseUrl: proxy.url(process.env.DATABASE_URL!), pgTimeouts: { connectTimeoutMs: 1_000, statementTimeoutMs: 2_000 } }));
  const warmup = create('alertmanager:pg-warmup');
  await producer.send([warmup]);
  await resultOf(warmup);

  proxy.cut('blackhole'); // unreachable and silent: only the timeouts answer
  const during = [create('alertmanager:pg-1'), create('alertmanager:pg-2')];
  await producer.send(during);
  await waitFor(async () => (await readyz(pager!.url)) === 503, { what: 'not ready while the database does not answer', timeoutMs: 30_000 });
  const ready = await (await fetch(`${pager.url}/readyz`)).json();
  expect(ready).toMatchObject({ status: 'not ready', reason: expect.stringMatching(/database unreachable/) });
  await new Promise((r) => setTimeout(r, 4_000));
  proxy.cut('refuse'); // down
  await new Promise((r) => setTimeout(r, 2_000));
  expect(og.state.alerts.filter((a) => a.alias.startsWith('alertmanager:pg-') && a.alias !== 'alertmanager:pg-warmup')).toEqual([]);

  proxy.restore();
  for (const c of during) expect(await resultOf(c)).toMatchObject({ type: 'PagerAlertCreated' });
  for (const c of during) {
    expect(og.state.alerts.filter((a) => a.alias === c.alias)).toHaveLength(1);
    expect(await records(TOPICS.deadLetter, c)).toEqual([]);
  }
  await waitFor(async () => (await readyz(pager!.url)) === 200, { what: 'ready again' });
  expect(await fetch(`${pager.url}/metrics`).then((r) => r.text())).toMatch(/alertbus_consumer_retries_total\{group="[^"]*",service="opsgenie-sink"\} [1-9]/);
});

// An outage longer than DELIVERY_RETRY_BUDGET ended in DeliveryFailed and a dead letter, against "faults delay, never
// drop". Nothing else goes through here either, so it is an outage: said once (metric, log), and the page waits.
// (A command the pager keeps failing while others go through is still dead-lettered: runner-budget.int.test.ts.)
test('a pager down for longer than the retry budget: said once, the page keeps waiting and is paged once when it is back', async () => {
  await pager?.close();
  pager = await startOpsgenieSink(pagerConfig({ retryPolicy: { budgetMs: 1_500, minBackoffMs: 200, maxBackoffMs: 400 } }));
  og.state.failNext('create', { status: 502 }, 1_000_000);
  const page = create('alertmanager:budget');
  await producer.send([page]);
  const afterBudget = (r: ReadRecord) => r.event!.type === 'DeliveryDelayed' && r.event!.occurredAt > (r.event!.data as { budgetEndsAt: string }).budgetEndsAt;
  await waitFor(async () => (await records(TOPICS.deliveries, page)).filter(afterBudget).length >= 2, {
    what: 'two attempts after the budget ended',
    intervalMs: 300,
  });
  expect(new Set(await typesOf(page))).toEqual(new Set(['DeliveryDelayed']));
  expect(await records(TOPICS.deadLetter, page)).toEqual([]);
  const metrics = await fetch(`${pager.url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/alertbus_sink_deliveries_total\{[^}]*outcome="failed-budget-spent"[^}]*\} 1\n/);
  expect(metrics).toMatch(/alertbus_deliveries_past_budget\{[^}]*\} 1\n/);

  og.state.clearFaults();
  expect(await resultOf(page)).toMatchObject({ type: 'PagerAlertCreated' });
  expect(og.state.alerts.filter((a) => a.alias === page.alias)).toEqual([expect.objectContaining({ count: 1 })]);
  expect(await records(TOPICS.deadLetter, page)).toEqual([]);
  const { rows } = await pool.query(`SELECT status FROM sink_commands WHERE command_id = $1`, [page.id]);
  expect(rows).toEqual([{ status: 'completed' }]);
  expect(await fetch(`${pager.url}/metrics`).then((r) => r.text())).toMatch(/alertbus_deliveries_past_budget\{[^}]*\} 0\n/);
});

test('a refused key (a rotation, the other region): pages wait, /readyz says why, nothing is dead-lettered; with the key taken again each is paged once', async () => {
  await pager?.close();
  pager = await startOpsgenieSink(pagerConfig());
  og.state.failNext('*', { status: 401, body: { message: 'Could not authenticate', took: 0.0, requestId: 'r-401' } }, 1_000_000);
  const pages = [create('alertmanager:key-1'), create('alertmanager:key-2')];
  await producer.send(pages);
  await waitFor(async () => (await typesOf(pages[0]!)).includes('DeliveryDelayed'), { what: 'the page delayed', intervalMs: 300 });
  await waitFor(async () => (await readyz(pager!.url)) === 503, { what: 'not ready while the key is refused' });
  expect(await (await fetch(`${pager.url}/readyz`)).json()).toMatchObject({ reason: expect.stringMatching(/refused the key .*OPSGENIE_API_KEY/) });

  og.state.clearFaults();
  for (const c of pages) expect(await resultOf(c)).toMatchObject({ type: 'PagerAlertCreated' });
  for (const c of pages) {
    expect(og.state.alerts.filter((a) => a.alias === c.alias)).toHaveLength(1);
    expect(await records(TOPICS.deadLetter, c)).toEqual([]);
  }
  await waitFor(async () => (await readyz(pager!.url)) === 200, { what: 'ready again' });
});
