/**
 * `alertbus deadletter` against the real broker: a dead letter once redriven says so (when, by whom), and is not put
 * back a second time unless asked, by --id or by --all. Before, the list looked the same after a redrive and a second
 * redrive said "1 dead letter redriven" again, so `--all` put every earlier one back once more.
 */
import { deadLetterEvent, EventProducer, type ConsumedRecord } from '@alertbus/kafka';
import { GROUPS, HEADERS, TOPICS, type Envelope } from '@alertbus/schemas';
import { Partitioners, type Kafka } from 'kafkajs';
import { runCli } from '../../../test/support/cli';
import { readTopic, testKafka } from '../../../test/support/kafka';

type Listed = Envelope<'DeadLettered'> & { redrives: Array<{ at: string; by: string | null; topic: string; partition: number; offset: string }> };

let kafka: Kafka;
let producer: EventProducer;

beforeAll(async () => {
  kafka = await testKafka('deadletter-redriven-cli');
  producer = new EventProducer(kafka);
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
});

/** A record the router could not read, on alerts.received.v1, and the dead letter it set aside for it. */
async function deadLetterOf(key: string): Promise<Envelope<'DeadLettered'>> {
  const raw = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await raw.connect();
  try {
    const value = Buffer.from(JSON.stringify({ not: 'an event', key }));
    const [meta] = await raw.send({ topic: TOPICS.alertsReceived, acks: -1, messages: [{ key, value }] });
    const record: ConsumedRecord = { topic: TOPICS.alertsReceived, partition: meta!.partition, offset: meta!.baseOffset!, key, value, timestamp: String(Date.now()), headers: {} };
    const dead = deadLetterEvent(record, GROUPS.router, [{ at: new Date().toISOString(), error: 'schema: data must have required property id' }], new Date());
    await producer.send([dead]);
    return dead;
  } finally {
    await raw.disconnect();
  }
}

const putBack = async (id: string) => (await readTopic(kafka, TOPICS.alertsReceived)).filter((r) => r.headers[HEADERS.redrive] === id);
const listed = async (id: string) => (JSON.parse((await runCli('deadletter', 'list', '--json')).stdout) as Listed[]).find((d) => d.id === id)!;
const row = async (id: string) => (await runCli('deadletter', 'list')).stdout.split('\n').find((l) => l.startsWith(id)) ?? '';

test('a redriven dead letter says when and by whom, and is put back again only with --again', async () => {
  const first = await deadLetterOf('alertmanager:redriven-once');
  const second = await deadLetterOf('alertmanager:never-redriven');
  expect((await listed(first.id)).redrives).toEqual([]);
  expect(await row(first.id)).toMatch(/\s-\s+schema: data must have/);

  const before = Date.now();
  const redriven = await runCli('deadletter', 'redrive', '--id', first.id, '--by', 'jane.sre');
  const after = Date.now();
  expect(redriven).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('1 dead letter redriven by jane.sre') });
  const [record] = await putBack(first.id);

  // The list says it: in the table and in --json.
  const { redrives } = await listed(first.id);
  expect(redrives).toEqual([{ at: expect.any(String), by: 'jane.sre', topic: TOPICS.alertsReceived, partition: first.data.origin.partition, offset: record!.offset }]);
  const at = redrives[0]!.at;
  expect(Date.parse(at)).toBeGreaterThanOrEqual(before);
  expect(Date.parse(at)).toBeLessThanOrEqual(after);
  expect(await row(first.id)).toContain(`redriven at ${at} by jane.sre`);
  expect((await listed(second.id)).redrives).toEqual([]);

  // A second redrive of it is refused, saying when and by whom it was put back; nothing is written.
  const again = await runCli('deadletter', 'redrive', '--id', first.id, '--by', 'bob');
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain(`dead letter ${first.id} already redriven at ${at} by jane.sre; --again to put it back once more`);
  expect(again.stdout).not.toContain('redriven by bob');

  // --all puts back only those not redriven yet.
  const all = await runCli('deadletter', 'redrive', '--all', '--by', 'bob');
  expect(all.exitCode).toBe(0);
  expect(all.stdout).toContain('not redriven: 1 dead letter already redriven');
  expect(all.stdout).toContain(`redriven ${second.id} → ${TOPICS.alertsReceived}`);
  expect(all.stdout).toContain('1 dead letter redriven by bob');
  expect(await putBack(first.id)).toHaveLength(1);
  expect(await putBack(second.id)).toHaveLength(1);
  expect(await runCli('deadletter', 'redrive', '--all')).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('nothing to redrive') });

  // Asked for, it goes back once more; the list counts both.
  const forced = await runCli('deadletter', 'redrive', '--id', first.id, '--again', '--by', 'bob');
  expect(forced).toMatchObject({ exitCode: 0, stdout: expect.stringContaining('1 dead letter redriven by bob') });
  expect((await putBack(first.id)).map((r) => r.headers[HEADERS.redrivenBy])).toEqual(['jane.sre', 'bob']);
  expect((await listed(first.id)).redrives.map((r) => r.by)).toEqual(['jane.sre', 'bob']);
  expect(await row(first.id)).toMatch(/redriven at \S+ by bob \(2 times\)/);
});
