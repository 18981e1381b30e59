import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createPool, type Pool, type DeliveryRetryPolicy } from '@alertbus/common';
import { EventProducer } from '@alertbus/kafka';
import {
  TOPICS,
  deriveId,
  type AnyEnvelope,
  type DeadLetter,
} from '@alertbus/schemas';
import { CommandLedger } from '@alertbus/sink-runtime';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '@alertbus/stand-ins';
import type { Kafka } from 'kafkajs';
import { dropTestDatabase } from '../../../test/support/db';
import { readTopic, testKafka, type ReadRecord } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import type { OpsgenieSinkConfig } from './config';
import { SINK_NAME, startOpsgenieSink, type OpsgenieSink } from './index';
import { createCommand, pagerCommand, testSinkConfig } from './test-support/commands';

const FIXTURES = resolve(__dirname, '../../..', '../shared/fixtures/opsgenie');
const fixture = (name: string) => JSON.parse(readFileSync(resolve(FIXTURES, name), 'utf8')) as Record<string, unknown>;

/** Deliveries retry quickly here; the budget is long enough never to run out in these tests. */
const FAST_RETRIES: DeliveryRetryPolicy = { budgetMs: 10 * 60_000, minBackoffMs: 20, maxBackoffMs: 100 };

let kafka: Kafka;
let producer: EventProducer;
let og: OpsgenieStandIn;
let sink: OpsgenieSink | undefined;
let pool: Pool;

const sinkConfig = (overrides: Partial<OpsgenieSinkConfig> = {}) => testSinkConfig(og, { retryPolicy: FAST_RETRIES, ...overrides });

const command = pagerCommand;
const create = createCommand;

/** The results on the delivery topic caused by a command, DeliveryDelayed aside (waits until `count` are there). */
async function deliveriesOf(cmd: AnyEnvelope, count = 1, type?: string): Promise<ReadRecord[]> {
  return waitFor(
    async () => {
      const found = (await readTopic(kafka, TOPICS.deliveries)).filter(
        (r) => r.event?.causationId === cmd.id && (type ? r.event.type === type : r.event.type !== 'DeliveryDelayed'),
      );
      return found.length >= count ? found : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 300, what: `${count} delivery event(s) for ${cmd.type} ${cmd.id}` },
  );
}

async function deliveryOf(cmd: AnyEnvelope): Promise<AnyEnvelope> {
  return (await deliveriesOf(cmd))[0]!.event!;
}

const callsFor = (alias: string) => og.state.calls.filter((c) => c.identifier === alias || (c.body as { alias?: string } | undefined)?.alias === alias);

beforeAll(async () => {
  kafka = await testKafka('opsgenie-sink-test');
  producer = new EventProducer(kafka);
  await producer.connect();
  og = await startOpsgenieStandIn();
  sink = await startOpsgenieSink(sinkConfig());
  pool = createPool(process.env.DATABASE_URL!);
});

afterAll(async () => {
  await sink?.close();
  await producer?.disconnect();
  await og?.close();
  await pool?.end();
  await dropTestDatabase();
});

describe('opsgenie-sink with real Kafka, Postgres and the Opsgenie stand-in', () => {
  it('creates one alert per command with its alias, priority, tags and responders, and reports the alert id', async () => {
    const cmd = create('alertmanager:0a1b2c3d');
    await producer.send([cmd]);
    const delivery = await deliveryOf(cmd);
    expect(delivery).toMatchObject({
      id: deriveId(cmd.id, 'delivery'),
      type: 'PagerAlertCreated',
      alias: cmd.alias,
      causationId: cmd.id,
      correlationId: cmd.correlationId,
      data: { commandId: cmd.id, commandType: 'CreatePagerAlert', provider: 'opsgenie', dryRun: false, attempts: 1 },
    });
    const alerts = og.state.alerts.filter((a) => a.alias === cmd.alias);
    expect(alerts).toEqual([
      expect.objectContaining({
        priority: 'P2',
        tags: ['db', 'disk'],
        responders: [{ type: 'team', name: 'sre' }],
        details: { host: 'db-1' },
        status: 'open',
      }),
    ]);
    expect(delivery.data).toMatchObject({ alertId: alerts[0]!.id, requestId: alerts[0]!.createdBy });
  });

  it('does not call the pager again for a command it already completed, and re-emits the same delivery', async () => {
    const cmd = create('alertmanager:twice');
    await producer.send([cmd]);
    const [first] = await deliveriesOf(cmd);
    await producer.send([cmd]);
    const both = await deliveriesOf(cmd, 2);
    expect(both.map((r) => r.event!.id)).toEqual([first!.event!.id, first!.event!.id]);
    expect(callsFor(cmd.alias).filter((c) => c.route === 'create')).toHaveLength(1);
    expect(og.state.alerts.filter((a) => a.alias === cmd.alias)).toHaveLength(1);
  });

  it('closes the alert by alias', async () => {
    const alias = 'grafana:close/me please';
    const open = create(alias);
    await producer.send([open]);
    await deliveryOf(open);
    const close = command('ClosePagerAlert', alias, { note: 'resolved at source' });
    await producer.send([close]);
    const delivery = await deliveryOf(close);
    const alert = og.state.alerts.find((a) => a.alias === alias)!;
    expect(delivery).toMatchObject({ type: 'PagerAlertClosed', data: { provider: 'opsgenie', alertId: alert.id } });
    expect(alert).toMatchObject({ status: 'closed', closedBy: 'alertbus', notes: [expect.objectContaining({ note: 'resolved at source' })] });
  });

  it('acknowledges and adds notes; acknowledging an alias with no open alert fails permanently as alert-not-open', async () => {
    const alias = 'generic:ack-me';
    const open = create(alias);
    await producer.send([open]);
    await deliveryOf(open);
    const ack = command('AcknowledgePagerAlert', alias, { user: 'alice' });
    const note = command('AddPagerNote', alias, { note: 'on it' });
    const orphan = command('AcknowledgePagerAlert', 'generic:nothing-open');
    await producer.send([ack, note, orphan]);
    expect(await deliveryOf(ack)).toMatchObject({ type: 'PagerAlertAcknowledged' });
    expect(await deliveryOf(note)).toMatchObject({ type: 'PagerNoteAdded' });
    expect(og.state.alerts.find((a) => a.alias === alias)).toMatchObject({
      acknowledged: true,
      acknowledgedBy: 'alice',
      notes: [expect.objectContaining({ note: 'on it' })],
    });
    const failed = await deliveryOf(orphan);
    expect(failed).toMatchObject({ type: 'DeliveryFailed', data: { permanent: true, target: 'pager', attempts: 1 } });
    expect((failed.data as { error: string }).error).toMatch(/^alert-not-open: /);
  });

  it('waits out a 429 with Retry-After (saying so with DeliveryDelayed) and then creates the alert once', async () => {
    og.state.failNext('create', { status: 429, retryAfter: 1 });
    const cmd = create('alertmanager:throttled');
    await producer.send([cmd]);
    const delivery = await deliveryOf(cmd);
    expect(delivery).toMatchObject({ type: 'PagerAlertCreated', data: { attempts: 2 } });
    const [delayed] = await deliveriesOf(cmd, 1, 'DeliveryDelayed');
    expect(delayed!.event!.data).toMatchObject({ commandId: cmd.id, target: 'pager', attempts: 1, httpStatus: 429, retryAfterMs: 1000 });
    const d = delayed!.event!.data as { nextAttemptAt: string; firstAttemptAt: string };
    expect(Date.parse(d.nextAttemptAt) - Date.parse(d.firstAttemptAt)).toBeGreaterThanOrEqual(1000);
    expect(callsFor(cmd.alias).map((c) => `${c.route}:${c.status}`)).toEqual(['create:429', 'create:202']);
    expect(og.state.alerts.filter((a) => a.alias === cmd.alias)).toHaveLength(1);
  });

  it('retries a 500 and then succeeds', async () => {
    og.state.failNext('create', { status: 500, body: fixture('error_500_internal.json') });
    const cmd = create('alertmanager:flaky');
    await producer.send([cmd]);
    expect(await deliveryOf(cmd)).toMatchObject({ type: 'PagerAlertCreated', data: { attempts: 2 } });
    expect((await deliveriesOf(cmd, 1, 'DeliveryDelayed'))[0]!.event!.data).toMatchObject({ attempts: 1, httpStatus: 500 });
    expect(og.state.alerts.filter((a) => a.alias === cmd.alias)).toHaveLength(1);
  });

  it('reports a 422 as a permanent DeliveryFailed with a dead letter, and goes on with the next command', async () => {
    og.state.failNext('create', { status: 422, body: fixture('error_422_unprocessable.json') });
    const bad = create('alertmanager:rejected');
    const next = create('alertmanager:after-rejected');
    await producer.send([bad]);
    await producer.send([next]);
    const failed = await deliveryOf(bad);
    expect(failed).toMatchObject({
      type: 'DeliveryFailed',
      data: { commandId: bad.id, target: 'pager', permanent: true, httpStatus: 422, attempts: 1 },
    });
    expect((failed.data as { error: string }).error).toContain("recipients#type: Invalid recipient type 'bb'");
    const dead = await waitFor(
      async () =>
        (await readTopic(kafka, TOPICS.deadLetter)).find(
          (r) => r.event?.type === 'DeadLettered' && (r.event.data as DeadLetter).origin.value?.includes(bad.id),
        ),
      { timeoutMs: 30_000, intervalMs: 300, what: 'dead letter of the rejected command' },
    );
    expect((dead.event!.data as DeadLetter).origin.topic).toBe(TOPICS.pagerCommands);
    expect(await deliveryOf(next)).toMatchObject({ type: 'PagerAlertCreated' });
    const { rows } = await pool.query('SELECT status FROM sink_commands WHERE sink = $1 AND command_id = $2', [SINK_NAME, bad.id]);
    expect(rows).toEqual([{ status: 'failed' }]);
  });

  it('after a crash between "started" and the result, finds the open alert instead of creating a second one', async () => {
    const cmd = create('alertmanager:crashed-midway');
    // The earlier run got as far as the pager (the alert exists) and died before recording the result.
    const res = await fetch(`${og.url}/v2/alerts`, {
      method: 'POST',
      headers: { authorization: `GenieKey ${og.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'from the run that crashed', alias: cmd.alias }),
    });
    expect(res.status).toBe(202);
    await new CommandLedger(pool, SINK_NAME).markStarted(cmd);
    const before = og.state.calls.length;

    await producer.send([cmd]);
    const delivery = await deliveryOf(cmd);
    const alert = og.state.alerts.find((a) => a.alias === cmd.alias)!;
    expect(delivery).toMatchObject({ type: 'PagerAlertCreated', data: { alertId: alert.id } });
    expect(alert.count).toBe(1);
    expect(og.state.calls.slice(before).map((c) => c.route)).toEqual(['getAlert']);
  });

  it('in dry-run (no API key) records the request it would have sent and calls nothing', async () => {
    await sink!.close();
    sink = await startOpsgenieSink(sinkConfig({ apiKey: undefined }));
    expect(sink.dryRun).toBe(true);
    const before = og.state.calls.length;
    const cmd = create('alertmanager:dry');
    await producer.send([cmd]);
    const delivery = await deliveryOf(cmd);
    expect(delivery).toMatchObject({
      type: 'PagerAlertCreated',
      data: {
        dryRun: true,
        attempts: 0,
        provider: 'opsgenie',
        request: { method: 'POST /v2/alerts', body: expect.objectContaining({ alias: cmd.alias, priority: 'P2' }) },
      },
    });
    expect(og.state.calls.length).toBe(before);
  });

  it('with PAGER_PROVIDER=jsm uses the JSM Ops integration routes', async () => {
    await sink!.close();
    sink = await startOpsgenieSink(sinkConfig({ provider: 'jsm' }));
    const alias = 'alertmanager:via-jsm';
    const open = create(alias);
    await producer.send([open]);
    expect(await deliveryOf(open)).toMatchObject({ type: 'PagerAlertCreated', data: { provider: 'jsm' } });
    const close = command('ClosePagerAlert', alias);
    await producer.send([close]);
    expect(await deliveryOf(close)).toMatchObject({ type: 'PagerAlertClosed', data: { provider: 'jsm' } });
    const calls = callsFor(alias);
    expect(calls.map((c) => c.route)).toEqual(['create', 'close']);
    expect(calls.every((c) => c.flavour === 'jsm' && c.url.startsWith('/jsm/ops/integration/v2/alerts'))).toBe(true);
    expect(og.state.alerts.find((a) => a.alias === alias)).toMatchObject({ flavour: 'jsm', status: 'closed' });
  });
});
