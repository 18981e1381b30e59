/** What the sink wrote for a command, read back from deliveries.v1, for the sink's int tests. */
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';

/** The result of a command (what it did, or why it failed), DeliveryDelayed aside. */
export async function resultOf(kafka: Kafka, cmd: AnyEnvelope, timeoutMs = 60_000): Promise<AnyEnvelope> {
  const r = await waitFor(
    async () => (await readTopic(kafka, TOPICS.deliveries)).find((x) => x.event?.causationId === cmd.id && x.event.type !== 'DeliveryDelayed'),
    { timeoutMs, intervalMs: 200, what: `the result of ${cmd.type} ${cmd.id}` },
  );
  return r.event!;
}
