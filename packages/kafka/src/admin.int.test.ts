/**
 * Topics just created are briefly not served (ListOffsets answers "not the leader"): ensureTopics waits that out, and
 * the retries it makes meanwhile are expected, so the client's log (KafkaJS's console logger, as `npm start` has it)
 * shows no error for them.
 */
import { randomUUID } from 'node:crypto';
import { TOPIC_PREFIX, type TopicSpec } from '@alertbus/schemas';
import { testBrokers } from '../../../test/support/kafka';
import { ensureTopics } from './admin';
import { createKafka } from './client';

/** Every line the console got while `run` ran. */
async function consoleLines(run: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const spies = (['error', 'warn', 'info', 'log'] as const).map((m) =>
    jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' '))),
  );
  try {
    await run();
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  return lines;
}

test('creating topics and waiting until they are served logs no error', async () => {
  const run = randomUUID().slice(0, 8);
  const specs: TopicSpec[] = Array.from({ length: 6 }, (_, i) => ({
    name: `${TOPIC_PREFIX}admin-wait.${run}.${i}`,
    partitions: 12,
    cleanupPolicy: 'delete',
    retentionMs: -1,
  }));
  const kafka = createKafka({ brokers: testBrokers(), clientId: 'admin-wait-test' });
  let created: string[] = [];
  const lines = await consoleLines(async () => (created = await ensureTopics(kafka, specs)));
  expect(created).toEqual(specs.map((s) => s.name));
  expect(lines.filter((l) => /"level":"ERROR"/.test(l))).toEqual([]);
  // Served: a producer can write to every partition of them at once.
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: specs[0]!.name, acks: -1, messages: Array.from({ length: 12 }, (_, p) => ({ partition: p, value: 'x' })) });
  } finally {
    await producer.disconnect();
  }
});
