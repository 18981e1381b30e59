/**
 * The sink's producer on the real broker: the delivery events that one ledger statement's completions send, one send
 * per command in the same turn of the event loop, go out in one produce call.
 */
import type { Kafka } from 'kafkajs';
import { ensureTopics } from '@alertbus/kafka';
import { TOPICS, deriveId, makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { readTopic, testKafka } from '../../../test/support/kafka';
import { slackRootCommand } from '../../../test/support/commands';
import { createSinkProducer } from './producer';

let kafka: Kafka;

beforeAll(async () => {
  kafka = await testKafka('sink-producer-test');
  await ensureTopics(kafka);
});

function posted(command: AnyEnvelope, i: number): AnyEnvelope {
  const at = new Date().toISOString();
  return makeEnvelope({
    id: deriveId(command.id, 'delivery'),
    type: 'SlackMessagePosted',
    alias: command.alias,
    occurredAt: at,
    recordedAt: at,
    source: 'test-sink',
    causationId: command.id,
    correlationId: command.correlationId,
    data: {
      commandId: command.id,
      commandType: command.type,
      incidentId: (command.data as { incidentId: string }).incidentId,
      dryRun: false,
      attempts: 1,
      channel: 'C0ALERTS',
      ts: `1700000000.00010${i}`,
      purpose: 'root',
    },
  } as never) as AnyEnvelope;
}

test("the delivery events of commands completed together go out in one produce call, each written", async () => {
  const producer = createSinkProducer(kafka);
  await producer.connect();
  const events = Array.from({ length: 6 }, (_, i) => posted(slackRootCommand(`alertmanager:sink-producer-${i}-${Date.now()}`, `c${i}`), i));
  try {
    await Promise.all(events.map((e) => producer.send([e])));
    expect(producer.produceCalls).toBe(1);
  } finally {
    await producer.disconnect();
  }
  const written = new Set((await readTopic(kafka, TOPICS.deliveries)).map((r) => r.event?.id));
  for (const e of events) expect(written.has(e.id)).toBe(true);
});
