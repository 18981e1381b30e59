/**
 * The sink runner on the real broker and Postgres: a batch whose commands are done in the ledger is handed back before
 * its delivery events are acknowledged, so the partition's next command (here the same incident's) is executed while
 * that acknowledgement is still awaited, after the command before it. An acknowledgement that then fails loses
 * nothing and calls nothing twice: the partition is read again from the unacknowledged batch, whose commands (and the
 * later one) find their ledger rows completed and send the same events again.
 */
import { randomUUID } from 'node:crypto';
import type { EventProducer } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { slackRootCommand } from '../../../test/support/commands';
import type { Notifier } from './runner';
import { useRunnerEnv } from './test-support/runner-env';

const env = useRunnerEnv('sink-runner-pipelined-test');

const commandIdOf = (e: AnyEnvelope) => (e.data as { commandId?: string }).commandId;

/** A notifier that records the ids of the commands it executed, in order (other test files' commands included). */
function recordingNotifier(): { notifier: Notifier; executed: string[] } {
  const executed: string[] = [];
  const notifier: Notifier = {
    target: 'slack',
    handles: new Set(['PostSlackMessage']),
    execute: async (c) => {
      executed.push(c.id);
      return { type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: `${1_700_000_000 + executed.length}.000100`, purpose: 'root' } };
    },
    dryRun: () => ({ type: 'SlackMessagePosted', data: {} }),
  };
  return { notifier, executed };
}

/**
 * The events producer of the runner, whose send of `first`'s delivery event waits until the test ends it: `end(true)`
 * sends it, `end(false)` fails it as a broker that went away would (once; the sends after it go to Kafka).
 */
function heldProducer(first: AnyEnvelope) {
  let end!: (ok: boolean) => void;
  const ended = new Promise<boolean>((r) => (end = r));
  let heldOnce = false;
  const state = { holding: false, end };
  const producer = {
    send: async (events: AnyEnvelope[]) => {
      if (!heldOnce && events.some((e) => commandIdOf(e) === first.id)) {
        heldOnce = true;
        state.holding = true;
        const ok = await ended;
        state.holding = false;
        if (!ok) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' });
      }
      return env.producer.send(events);
    },
  } as unknown as EventProducer;
  return { producer, state };
}

async function produce(commands: AnyEnvelope[]): Promise<void> {
  const p = env.kafka.producer();
  await p.connect();
  await p.send({ topic: TOPICS.slackCommands, acks: -1, messages: commands.map((c) => ({ key: c.alias, partition: 0, value: JSON.stringify(c) })) });
  await p.disconnect();
}

async function deliveriesFor(commands: AnyEnvelope[]): Promise<AnyEnvelope[][]> {
  const events = (await readTopic(env.kafka, TOPICS.deliveries)).map((r) => r.event).filter((e): e is AnyEnvelope => e !== undefined);
  return commands.map((c) => events.filter((e) => commandIdOf(e) === c.id));
}

afterEach(async () => {
  await env.runner?.stop();
  env.runner = undefined;
});

test.each([
  ['acknowledged', true],
  ['not acknowledged (a broker fault)', false],
])(
  "an incident's next command is executed while the previous batch's delivery event is still awaited; that event %s, each command is called once and every event is written",
  async (_what, acknowledged) => {
    const sink = `test-sink-${randomUUID().slice(0, 8)}`;
    const alias = `alertmanager:pipelined-${sink}`;
    const [first, second] = [slackRootCommand(alias, 'first'), slackRootCommand(alias, 'second')];
    const { notifier, executed } = recordingNotifier();
    const held = heldProducer(first);
    env.runner = env.runnerOf(sink, notifier, { producer: held.producer });
    await env.runner.start();

    await produce([first]);
    await waitFor(() => held.state.holding, { what: "the first command's delivery event sent and awaiting its acknowledgement", timeoutMs: 60_000 });
    await produce([second]);
    // Before: the partition was fetched again only once the first batch's events were acknowledged, so this waited
    // for ever (the acknowledgement is held until after it; let go when the wait fails, so the runner can stop).
    await waitFor(() => executed.includes(second.id), { what: 'the second command executed while the first one is unacknowledged', timeoutMs: 30_000 }).catch(
      (err: unknown) => {
        held.state.end(true);
        throw err;
      },
    );
    expect(held.state.holding).toBe(true);
    held.state.end(acknowledged);

    const delivered = await waitFor(async () => {
      const d = await deliveriesFor([first, second]);
      return d.every((events) => events.length > 0) ? d : undefined;
    }, { what: 'a delivery event for both commands', timeoutMs: 60_000 });
    // Each called once, the incident's commands in order; a re-sent event has the same id.
    expect(executed.filter((id) => id === first.id || id === second.id)).toEqual([first.id, second.id]);
    for (const events of delivered) expect(new Set(events.map((e) => e.id)).size).toBe(1);
  },
);
