/** What the router decided for an input, read back from its command topic, for the rules tests. */
import { TOPICS, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { readTopic } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';

/** A rules file that sends every root post to `channel` and pages nobody. */
export const rulesFor = (channel: string) => `defaults:\n  slack: { channel: "${channel}" }\n  pager: { enabled: false }\n`;

/** The root post decided for an input, once the router has committed it. */
export async function rootPostOf(kafka: Kafka, input: Envelope<'AlertReceived'>): Promise<{ channel: string; rulesVersion: string }> {
  const post = await waitFor(
    async () =>
      (await readTopic(kafka, TOPICS.slackCommands))
        .map((r) => r.event)
        .find((e) => e?.type === 'PostSlackMessage' && e.causationId === input.id),
    { timeoutMs: 60_000, what: `the root post for ${input.alias}` },
  );
  const d = post.data as { channel: string; rule: { rulesVersion: string } };
  return { channel: d.channel, rulesVersion: d.rule.rulesVersion };
}
