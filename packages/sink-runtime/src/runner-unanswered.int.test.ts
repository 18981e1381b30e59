/**
 * A call that got no answer (a timeout, a connection lost after the request went out) may have taken effect: the
 * API did the work and only its answer was lost. The runner must not simply send it again (Slack has no idempotency
 * key: a second root post; the pager counts a second create), but look first, as after a crash, and complete the
 * command from what it finds. The same for a 500, 502 or 504 (a gateway that gave up waiting after the API acted);
 * a 429 or 503 says it was not processed. On the real broker and Postgres, with a notifier of the test's own.
 */
import { randomUUID } from 'node:crypto';
import { DeliveryError } from '@alertbus/common';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { slackRootCommand } from '../../../test/support/commands';
import type { DeliveryOutcome, Notifier } from './runner';
import { useRunnerEnv } from './test-support/runner-env';

const env = useRunnerEnv('sink-runner-unanswered-test');
/** Deliveries retried for an hour, 50–200 ms apart: the unanswered calls are tried again at once. */
const retryPolicy = { budgetMs: 3_600_000, minBackoffMs: 50, maxBackoffMs: 200 };

/**
 * An API that takes each of our posts but, `unanswered` times in all, loses the answer (the caller sees what its
 * HTTP client says on a timeout: no status), and that can be asked what it holds (as Slack's history by command id).
 */
function lossyApi(ours: ReadonlySet<string>, unanswered: number) {
  const taken: string[] = [];
  const lookups: string[] = [];
  let lost = 0;
  const notifier: Notifier = {
    target: 'slack',
    handles: new Set(['PostSlackMessage']),
    execute: async (c) => {
      if (!ours.has(c.id)) return { type: 'SlackMessagePosted', data: {} };
      taken.push(c.id);
      if (lost < unanswered) {
        lost += 1;
        throw new DeliveryError('request to Slack failed: timeout of 10000ms exceeded', false);
      }
      return { type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: `1700000000.${String(taken.length).padStart(6, '0')}`, purpose: 'root' } };
    },
    reconcile: async (c) => {
      lookups.push(c.id);
      const k = taken.indexOf(c.id);
      return k < 0 ? undefined : { type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: `1700000000.${String(k + 1).padStart(6, '0')}`, purpose: 'root' } };
    },
    dryRun: () => ({ type: 'SlackMessagePosted', data: {} }),
  };
  return { notifier, taken, lookups };
}

async function send(commands: AnyEnvelope[]): Promise<void> {
  const p = env.kafka.producer();
  await p.connect();
  await p.send({ topic: TOPICS.slackCommands, acks: -1, messages: commands.map((c) => ({ key: c.alias, value: JSON.stringify(c) })) });
  await p.disconnect();
}

/** The delivery events of `commands` other than DeliveryDelayed, per command, once each has one. */
async function outcomesOf(commands: AnyEnvelope[]): Promise<AnyEnvelope[][]> {
  const read = async () => {
    const events = (await readTopic(env.kafka, TOPICS.deliveries)).map((r) => r.event).filter((e): e is AnyEnvelope => e !== undefined);
    return commands.map((c) => events.filter((e) => e.type !== 'DeliveryDelayed' && (e.data as { commandId?: string }).commandId === c.id));
  };
  return waitFor(async () => ((await read()).every((d) => d.length > 0) ? read() : undefined), {
    what: 'an outcome for every command',
    timeoutMs: 60_000,
  });
}

test('a post whose answer was lost is looked up before it is tried again: it takes effect once, and its event names the message', async () => {
  const sink = `test-sink-${randomUUID().slice(0, 8)}`;
  const commands = ['one', 'two', 'three'].map((t) => slackRootCommand(`alertmanager:unanswered-${sink}-${t}`, t));
  const ours = new Set(commands.map((c) => c.id));
  // Every first call loses its answer.
  const api = lossyApi(ours, commands.length);
  env.runner = env.runnerOf(sink, api.notifier, { retryPolicy });
  await env.runner.start();
  await send(commands);

  const outcomes = await outcomesOf(commands);
  // Each post reached the API exactly once, and was found when it came up again instead of being posted again.
  expect([...api.taken].sort()).toEqual([...ours].sort());
  expect([...new Set(api.lookups)].sort()).toEqual([...ours].sort());
  for (const [k, list] of outcomes.entries()) {
    expect(list.map((e) => e.type)).toEqual(list.map(() => 'SlackMessagePosted'));
    expect(new Set(list.map((e) => (e.data as { ts?: string }).ts))).toEqual(new Set([`1700000000.${String(api.taken.indexOf(commands[k]!.id) + 1).padStart(6, '0')}`]));
  }
});

/**
 * An API whose first answer to our command is `status`, after it did the work when `tookEffect` (a gateway that timed
 * out waiting for Slack, which posted meanwhile); it can be asked what it holds, as Slack's history by command id.
 */
function answeringApi(ours: ReadonlySet<string>, status: number, tookEffect: boolean) {
  const calls: string[] = [];
  const taken: string[] = [];
  const lookups: string[] = [];
  const posted: DeliveryOutcome = { type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: '1700000000.000001', purpose: 'root' } };
  const notifier: Notifier = {
    target: 'slack',
    handles: new Set(['PostSlackMessage']),
    execute: async (c) => {
      if (!ours.has(c.id)) return { type: 'SlackMessagePosted', data: {} };
      calls.push(c.id);
      if (calls.length === 1) {
        if (tookEffect) taken.push(c.id);
        throw new DeliveryError(`Slack answered HTTP ${status}`, false, status);
      }
      taken.push(c.id);
      return posted;
    },
    reconcile: async (c) => {
      lookups.push(c.id);
      return taken.includes(c.id) ? posted : undefined;
    },
    dryRun: () => ({ type: 'SlackMessagePosted', data: {} }),
  };
  return { notifier, calls, taken, lookups };
}

async function runOne(status: number, tookEffect: boolean, repeatsSafely = false) {
  await env.runner?.stop();
  env.runner = undefined;
  const sink = `test-sink-${randomUUID().slice(0, 8)}`;
  const cmd = slackRootCommand(`alertmanager:answered-${status}-${sink}`, 'one');
  const api = answeringApi(new Set([cmd.id]), status, tookEffect);
  env.runner = env.runnerOf(sink, repeatsSafely ? { ...api.notifier, repeatsSafelyAfterServerError: true } : api.notifier, { retryPolicy });
  await env.runner.start();
  await send([cmd]);
  const [outcomes] = await outcomesOf([cmd]);
  return { cmd, api, outcomes: outcomes! };
}

// 429 and 503 say "not processed": tried again without a look-up.
test.each([429, 503])('a call answered %i is tried again without a look-up: the answer says it did not take effect', async (status) => {
  const { cmd, api } = await runOne(status, false);
  expect(api.calls).toEqual([cmd.id, cmd.id]);
  expect(api.lookups).toEqual([]);
});

// 500, 502 and 504 (Slack's, or a proxy's on the way: a gateway that gave up waiting) do not say Slack did nothing.
test.each([500, 502, 504])('a call answered %i after it took effect is looked up before it is tried again: it takes effect once', async (status) => {
  const { cmd, api, outcomes } = await runOne(status, true);
  expect(api.calls).toEqual([cmd.id]);
  expect(api.taken).toEqual([cmd.id]);
  expect(api.lookups).toEqual([cmd.id]);
  // One delivery event (a redelivered batch may send it again, with the same id), naming the message found.
  expect(new Set(outcomes.map((e) => `${e.id} ${e.type} ${(e.data as { ts?: string }).ts}`))).toEqual(
    new Set([`${outcomes[0]!.id} SlackMessagePosted 1700000000.000001`]),
  );
});

test.each([502, 504])('a call answered %i that did not take effect is looked up, not found, and tried again', async (status) => {
  const { cmd, api } = await runOne(status, false);
  expect(api.lookups).toEqual([cmd.id]);
  expect(api.calls).toEqual([cmd.id, cmd.id]);
  expect(api.taken).toEqual([cmd.id]);
});

// A notifier whose API deduplicates (the pager's: a create by alias) repeats at once: a look-up would only delay it.
test('a 502 to a notifier that repeats safely after a server error is tried again at once, without a look-up', async () => {
  const { cmd, api } = await runOne(502, false, true);
  expect(api.lookups).toEqual([]);
  expect(api.calls).toEqual([cmd.id, cmd.id]);
});
