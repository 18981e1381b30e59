/**
 * The sink runner on the real broker and Postgres, with a notifier of the test's own: a command's delivery event
 * goes out without holding up the next command, and one that was not acknowledged is not lost: the command comes
 * again, finds its ledger row completed, and the same event is sent again (the effect happens once).
 */
import { randomUUID } from 'node:crypto';
import type { EventProducer } from '@alertbus/kafka';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { slackRootCommand } from '../../../test/support/commands';
import type { Notifier } from './runner';
import { useRunnerEnv } from './test-support/runner-env';

const env = useRunnerEnv('sink-runner-test');

const command = slackRootCommand;

/**
 * A notifier that executes our commands (`ours`) through `work` and counts how many were in flight at most; other
 * commands on the shared topic are answered at once.
 */
function trackingNotifier(ours: { has(id: string): boolean }, work: (c: AnyEnvelope) => Promise<void>) {
  const executed: string[] = [];
  let inFlight = 0;
  const stats = { executed, mostInFlight: 0 };
  const notifier: Notifier = {
    target: 'slack',
    handles: new Set(['PostSlackMessage']),
    execute: async (c) => {
      if (!ours.has(c.id)) return { type: 'SlackMessagePosted', data: {} };
      inFlight += 1;
      stats.mostInFlight = Math.max(stats.mostInFlight, inFlight);
      executed.push(c.id);
      await work(c);
      inFlight -= 1;
      return { type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: '1700000000.000100', purpose: 'root' } };
    },
    dryRun: () => ({ type: 'SlackMessagePosted', data: {} }),
  };
  return { notifier, stats };
}

test("a delivery event that is not acknowledged is sent again when its command comes again; the command's effect happens once", async () => {
  const topic = TOPICS.slackCommands;
  const sink = `test-sink-${randomUUID().slice(0, 8)}`;
  const executed: string[] = [];
  const notifier: Notifier = {
    target: 'slack',
    handles: new Set(['PostSlackMessage']),
    execute: async (c) => {
      executed.push(c.id); // (other test files' commands on the topic come here too, under this group)
      return { type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: `${1_700_000_000 + executed.length}.000100`, purpose: 'root' } };
    },
    dryRun: () => ({ type: 'SlackMessagePosted', data: {} }),
  };
  // The second delivery event's first send fails as a broker that went away would answer; the rest go to Kafka.
  const commands = ['one', 'two', 'three'].map((t) => command(`alertmanager:runner-${sink}`, t));
  let failedOnce = false;
  const flaky = {
    send: (events: AnyEnvelope[]) => {
      if (!failedOnce && events.some((e) => (e.data as { commandId?: string }).commandId === commands[1]!.id)) {
        failedOnce = true;
        return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), { code: 'ECONNREFUSED' }));
      }
      return env.producer.send(events);
    },
  } as unknown as EventProducer;
  env.runner = env.runnerOf(sink, notifier, { producer: flaky });
  await env.runner.start();
  const p = env.kafka.producer();
  await p.connect();
  await p.send({ topic, acks: -1, messages: commands.map((c) => ({ key: c.alias, value: JSON.stringify(c) })) });
  await p.disconnect();

  const deliveredFor = async () => {
    const events = (await readTopic(env.kafka, TOPICS.deliveries)).map((r) => r.event).filter((e): e is AnyEnvelope => e !== undefined);
    return commands.map((c) => events.filter((e) => (e.data as { commandId?: string }).commandId === c.id));
  };
  const delivered = await waitFor(async () => ((await deliveredFor()).every((d) => d.length > 0) ? deliveredFor() : undefined), {
    what: 'a delivery event for every command',
    timeoutMs: 60_000,
  });
  expect(failedOnce).toBe(true);
  // Each command executed once, in order; the second's event came with the same id when it was sent again.
  const ours = new Set(commands.map((c) => c.id));
  expect(executed.filter((id) => ours.has(id))).toEqual(commands.map((c) => c.id));
  for (const d of delivered) expect(new Set(d.map((e) => e.id)).size).toBe(1);
});

test("a partition's commands of different incidents are executed at the same time; one incident's stay in order", async () => {
  await env.runner?.stop();
  env.runner = undefined;
  const topic = TOPICS.slackCommands;
  const sink = `test-sink-${randomUUID().slice(0, 8)}`;
  // Three incidents, two commands each, all on one partition, interleaved.
  const incidents = ['a', 'b', 'c'].map((n) => `alertmanager:concurrent-${sink}-${n}`);
  const roots = incidents.map((alias) => command(alias, 'first'));
  const updates = incidents.map((alias) => command(alias, 'second'));
  const ours = new Map([...roots, ...updates].map((c) => [c.id, c]));
  // Each of our calls waits until another of them is in flight (or, one at a time, until 10 s passed: then the
  // assertion below fails instead of the test hanging).
  let release: (() => void) | null = null;
  const { notifier, stats } = trackingNotifier(ours, async () => {
    if (release) {
      release();
      release = null;
      return;
    }
    await new Promise<void>((r) => {
      const timer = setTimeout(r, 10_000);
      release = () => {
        clearTimeout(timer);
        r();
      };
    });
  });
  const { executed } = stats;
  env.runner = env.runnerOf(sink, notifier);
  const p = env.kafka.producer();
  await p.connect();
  const interleaved = [roots[0]!, roots[1]!, updates[0]!, roots[2]!, updates[1]!, updates[2]!];
  await p.send({ topic, acks: -1, messages: interleaved.map((c) => ({ key: c.alias, partition: 0, value: JSON.stringify(c) })) });
  await p.disconnect();
  await env.runner.start();

  await waitFor(async () => (executed.length === interleaved.length ? true : undefined), { what: 'every command executed', timeoutMs: 60_000 });
  expect(stats.mostInFlight).toBeGreaterThan(1);
  expect(new Set(executed).size).toBe(interleaved.length);
  for (const [k, root] of roots.entries()) expect(executed.indexOf(root.id)).toBeLessThan(executed.indexOf(updates[k]!.id));
});

test('by default, more than four incidents of one partition are worked at a time; each incident keeps its order', async () => {
  await env.runner?.stop();
  env.runner = undefined;
  const topic = TOPICS.slackCommands;
  const sink = `test-sink-${randomUUID().slice(0, 8)}`;
  // 12 incidents, three commands each, interleaved on one partition in offset order: fewer incidents than commands
  // worked at a time, so commands of one incident out of their chain would run side by side.
  const incidents = Array.from({ length: 12 }, (_, n) => `alertmanager:wide-${sink}-${n}`);
  const steps = ['first', 'second', 'third'].map((t) => incidents.map((alias) => command(alias, t)));
  const ours = new Set(steps.flat().map((c) => c.id));
  /** Each of our commands' predecessor in its incident, which must have finished before it starts. */
  const after = new Map(steps.slice(1).flatMap((s, k) => s.map((c, i) => [c.id, steps[k]![i]!.id] as const)));
  const finished = new Set<string>();
  const startedEarly: string[] = [];
  let n = 0;
  const { notifier, stats } = trackingNotifier(ours, async (c) => {
    const before = after.get(c.id);
    if (before !== undefined && !finished.has(before)) startedEarly.push(c.id);
    // Calls that take uneven times, so that a chain out of order would show.
    await new Promise((r) => setTimeout(r, 5 + ((n++ * 7) % 11) * 3));
    finished.add(c.id);
  });
  const { executed } = stats;
  env.runner = env.runnerOf(sink, notifier);
  const p = env.kafka.producer();
  await p.connect();
  await p.send({ topic, acks: -1, messages: steps.flat().map((c) => ({ key: c.alias, partition: 0, value: JSON.stringify(c) })) });
  await p.disconnect();
  await env.runner.start();

  await waitFor(async () => (executed.length === ours.size ? true : undefined), { what: 'every command executed', timeoutMs: 60_000 });
  expect(new Set(executed).size).toBe(ours.size);
  // Each incident's commands one after the other: none started before the one before it had finished.
  expect(startedEarly).toEqual([]);
  // One fetch brings the 36 commands; more than the former four incidents at a time were in flight.
  expect(stats.mostInFlight).toBeGreaterThan(4);
});
