/**
 * Writes a stream to the real topics the way the services do, plus (on request) one aborted transaction whose
 * records nobody may ever project.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import { EventProducer, toMessage } from '@alertbus/kafka';
import { deriveId, INCIDENT_COMMAND_TYPES, INCIDENT_EVENT_TYPES, makeEnvelope, topicOf, type AnyEnvelope } from '@alertbus/schemas';

const ROUTER_TOPIC_TYPES: ReadonlySet<string> = new Set([...INCIDENT_EVENT_TYPES, ...INCIDENT_COMMAND_TYPES]);

/** An event written only inside an aborted transaction: it must appear in no projection, rebuild or audit. */
export function abortedEvent(alias: string): AnyEnvelope {
  return makeEnvelope({
    id: deriveId('aborted', alias),
    type: 'EventSuppressed',
    alias,
    occurredAt: '2025-03-01T07:00:00.000Z',
    recordedAt: '2025-03-01T07:00:00.000Z',
    source: 'router',
    data: { inputId: 'never', inputType: 'AlertReceived', reason: 'dropped-by-rule', rule: { path: 'default', rulesVersion: 'x' } },
  });
}

/**
 * Inputs, deliveries and silences go through the EventProducer; the router's decisions and commands go in
 * Kafka transactions of up to `perTransaction` events (as the router commits a batch), so the topics hold
 * transaction markers. Each topic-partition keeps the stream's order.
 */
export async function produceStream(
  kafka: Kafka,
  events: readonly AnyEnvelope[],
  opts: { abortOne?: boolean; perTransaction?: number } = {},
): Promise<void> {
  const perTransaction = opts.perTransaction ?? 20;
  const producer = new EventProducer(kafka);
  const tx = kafka.producer({ transactionalId: `test-router-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await tx.connect();
  try {
    const routed = events.filter((e) => ROUTER_TOPIC_TYPES.has(e.type));
    const others = events.filter((e) => !ROUTER_TOPIC_TYPES.has(e.type));
    for (let i = 0; i < others.length; i += 500) await producer.send(others.slice(i, i + 500));
    for (let i = 0; i < routed.length; i += perTransaction) {
      const byTopic = new Map<string, Message[]>();
      for (const e of routed.slice(i, i + perTransaction)) {
        byTopic.set(topicOf(e.type), [...(byTopic.get(topicOf(e.type)) ?? []), toMessage(e)]);
      }
      const t = await tx.transaction();
      await t.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      await t.commit();
    }
    if (opts.abortOne) {
      const t = await tx.transaction();
      const e = abortedEvent(events[0]!.alias);
      await t.send({ topic: topicOf(e.type), acks: -1, messages: [toMessage(e)] });
      await t.abort();
    }
  } finally {
    await tx.disconnect();
    await producer.disconnect();
  }
}
