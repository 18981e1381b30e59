/**
 * `alertbus deadletter list|redrive` against the real broker, with the pager sink and its stand-in: a command
 * the pager refused for good is listed, redriven (dry run first), executed once through the ledger, and a
 * second redrive of the same dead letter changes nothing.
 */
import { EventProducer } from '@alertbus/kafka';
import { deriveId, GROUPS, HEADERS, TOPICS, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import { startOpsgenieStandIn, type OpsgenieStandIn } from '@alertbus/stand-ins';
import type { Kafka } from 'kafkajs';
import { runCli } from '../../../test/support/cli';
import { dropTestDatabase } from '../../../test/support/db';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { startOpsgenieSink, type OpsgenieSink } from './index';
import { createCommand, testSinkConfig } from './test-support/commands';

let kafka: Kafka;
let producer: EventProducer;
let og: OpsgenieStandIn;
let sink: OpsgenieSink;

const create = (alias: string) => createCommand(alias);

const results = async (cmd: AnyEnvelope) =>
  (await readTopic(kafka, TOPICS.deliveries)).map((r) => r.event!).filter((e) => e?.causationId === cmd.id && e.type !== 'DeliveryDelayed');
const createCalls = (alias: string) => og.state.calls.filter((c) => c.route === 'create' && (c.body as { alias?: string })?.alias === alias);
async function pagerEnd(): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(TOPICS.pagerCommands)).map((o) => o.high).join(',');
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  kafka = await testKafka('deadletter-cli');
  producer = new EventProducer(kafka);
  await producer.connect();
  og = await startOpsgenieStandIn();
  sink = await startOpsgenieSink(testSinkConfig(og));
});

afterAll(async () => {
  await sink?.close();
  await producer?.disconnect();
  await og?.close();
  await dropTestDatabase();
});

test('a command the pager refused is listed, redriven once through the ledger, and a second redrive changes nothing', async () => {
  og.state.failNext('create', { status: 422, body: { message: 'Request body is not processable.', took: 0.01, requestId: 'r-1' } });
  const cmd = create('alertmanager:redrive-me');
  await producer.send([cmd]);
  await waitFor(async () => (await results(cmd)).some((e) => e.type === 'DeliveryFailed'), { what: 'the refusal' });

  const listed = await waitFor(async () => {
    const r = await runCli('deadletter', 'list', '--json');
    const all = JSON.parse(r.stdout) as Array<Envelope<'DeadLettered'>>;
    return all.find((d) => d.data.origin.value?.includes(cmd.id));
  }, { what: 'the dead letter listed' });
  expect(listed.data).toMatchObject({ consumer: GROUPS.opsgenieSink, origin: { topic: TOPICS.pagerCommands, key: cmd.alias } });
  expect(listed.data.attempts.at(-1)!.error).toMatch(/HTTP 422/);

  const table = await runCli('deadletter', 'list', '--topic', 'commands.pager.v1');
  expect(table.exitCode).toBe(0);
  expect(table.stdout).toMatch(new RegExp(`^${listed.id}\\s+\\S+\\s+${GROUPS.opsgenieSink}\\s+${TOPICS.pagerCommands.replace(/\./g, '\\.')}\\[\\d+\\]@\\d+\\s+${cmd.alias}\\s+.*HTTP 422`, 'm'));
  expect((await runCli('deadletter', 'list', '--topic', 'alerts.received.v1')).stdout).toBe('no dead letters\n');

  const before = await pagerEnd();
  const dry = await runCli('deadletter', 'redrive', '--id', listed.id, '--dry-run');
  expect(dry.stdout).toContain(`would redrive ${listed.id} → ${TOPICS.pagerCommands}`);
  expect(dry.stdout).toContain('1 dead letter would be redriven (dry run: nothing written)');
  expect(await pagerEnd()).toBe(before);

  const redriven = await runCli('deadletter', 'redrive', '--id', listed.id, '--by', 'jane.sre');
  expect(redriven).toMatchObject({ exitCode: 0, stdout: expect.stringContaining(`redriven ${listed.id}`) });
  expect(redriven.stdout).toContain('1 dead letter redriven by jane.sre');
  // Who put it back stays on the record, beside which dead letter it came from.
  const put = (await readTopic(kafka, TOPICS.pagerCommands)).filter((r) => r.headers[HEADERS.redrive] === listed.id);
  expect(put.map((r) => r.headers[HEADERS.redrivenBy])).toEqual(['jane.sre']);
  const created = await waitFor(async () => (await results(cmd)).find((e) => e.type === 'PagerAlertCreated'), { what: 'the redriven command executed' });
  expect(created.id).toBe(deriveId(cmd.id, 'delivery', listed.id));
  expect(og.state.alerts.filter((a) => a.alias === cmd.alias)).toHaveLength(1);

  // Redriven again: the ledger says it completed; the result is re-emitted, the pager not called again.
  await runCli('deadletter', 'redrive', '--id', listed.id, '--again');
  await waitFor(async () => (await results(cmd)).filter((e) => e.id === created.id).length === 2, { what: 'the second redrive seen' });
  expect(createCalls(cmd.alias).map((c) => c.status)).toEqual([422, 202]);
});

test('redrive says which dead letters it needs', async () => {
  expect(await runCli('deadletter', 'redrive')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('--id <dead letter id> (repeatable) or --all') });
  expect(await runCli('deadletter', 'redrive', '--id', 'no-such-id')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('no dead letter with id no-such-id') });
});
