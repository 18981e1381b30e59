/**
 * A record that is itself bad must always be set aside: its dead letter has to be one the producer and the broker take.
 * A dead letter they refused was thrown back to the consume loop, which retried the bad record forever and stopped
 * every later record of its partition behind it.
 */
import { decodeEnvelope, TOPICS, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { runCli } from '../../../test/support/cli';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { deadLetterEvent, redriveRecord } from './dead-letter';
import { EventProducer } from './producer';
import type { ConsumedRecord } from './records';

let kafka: Kafka;
let producer: EventProducer;

beforeAll(async () => {
  kafka = await testKafka('dead-letter-test');
  producer = new EventProducer(kafka);
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
});

let offset = 0;
const record = (key: string | null, value: Buffer): ConsumedRecord => ({
  topic: TOPICS.slackCommands,
  partition: 3,
  offset: String(100_000 + offset++),
  key,
  timestamp: '0',
  headers: {},
  value,
});

const NOT_AN_EVENT = Buffer.from('{"not":"an event"}');

test.each<[string, ConsumedRecord, { alias: 'key' | 'position'; omitted: boolean }]>([
  ['an empty key (what KafkaJS gives for a zero-length one)', record('', NOT_AN_EVENT), { alias: 'position', omitted: false }],
  ['a key of 600 characters', record('k'.repeat(600), NOT_AN_EVENT), { alias: 'position', omitted: false }],
  ['800 KB that are not UTF-8 (base64 would make them 1.07 MB)', record('a', Buffer.alloc(800_000, 0xff)), { alias: 'key', omitted: true }],
  ['900 KB of JSON full of quotes (escaped, 1.8 MB)', record('a', Buffer.from(JSON.stringify({ x: '"'.repeat(450_000) }))), { alias: 'key', omitted: true }],
  ['a small bad record', record('a', NOT_AN_EVENT), { alias: 'key', omitted: false }],
])('%s is dead-lettered: the broker takes its dead letter', async (_, r, want) => {
  const decoded = decodeEnvelope(r.value!, r.topic);
  expect(decoded.ok).toBe(false);
  const dead = deadLetterEvent(r, 'alertbus-slack-sink', [{ at: new Date().toISOString(), error: decoded.ok ? '' : decoded.error }], new Date());
  await producer.send([dead]);
  const written = (await readTopic(kafka, TOPICS.deadLetter)).find((x) => x.event?.id === dead.id)?.event as Envelope<'DeadLettered'> | undefined;
  expect(written).toBeDefined();
  expect(written!.alias).toBe(want.alias === 'key' ? r.key : `${r.topic}:${r.partition}:${r.offset}`);
  const origin = written!.data.origin;
  expect(origin.key).toBe(r.key);
  if (want.omitted) {
    expect(origin.value).toBeNull();
    expect(origin.valueOmitted).toEqual({ bytes: r.value!.length, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Its value is not in it: a redrive says where the record is rather than put back something else.
    expect(() => redriveRecord(written!)).toThrow(`is still at ${r.topic}[3] offset ${r.offset}`);
    const cli = await runCli('deadletter', 'redrive', '--id', dead.id, '--dry-run');
    expect(cli.stdout).toContain(`not redriven ${dead.id}: its record's value (${r.value!.length} bytes) was too large to keep`);
    expect(cli.stdout).toContain('nothing to redrive');
  } else {
    expect(origin.valueOmitted).toBeUndefined();
    expect(redriveRecord(written!).message.value).toEqual(r.value);
  }
});
