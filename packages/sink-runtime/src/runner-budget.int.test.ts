/**
 * DELIVERY_RETRY_BUDGET against an outage and against a record the API keeps failing on, with the runner on the real
 * broker and Postgres and a notifier of the test's own. An outage longer than the budget (nothing goes through) is said
 * once and the command keeps waiting: delivered once when the API is back, never dead-lettered. A command that keeps
 * failing while other commands go through is the record's own problem: dead-lettered once the budget is spent, and its
 * partition moves on.
 */
import { randomUUID } from 'node:crypto';
import { createRegistry, DeliveryError, type DeliveryRetryPolicy, type Registry } from '@alertbus/common';
import { redriveRecord } from '@alertbus/kafka';
import { KEYED_PARTITIONS, TOPICS, type AnyEnvelope, type DeadLetter, type Envelope } from '@alertbus/schemas';
import { readTopic } from '../../../test/support/kafka';
import { waitFor } from '../../../test/support/wait';
import { slackRootCommand } from '../../../test/support/commands';
import type { Notifier } from './runner';
import { useRunnerEnv } from './test-support/runner-env';

const env = useRunnerEnv('sink-runner-budget');
const BUDGET: DeliveryRetryPolicy = { budgetMs: 1_000, minBackoffMs: 50, maxBackoffMs: 200 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers every command at once, unless the API is down (every call 503) or the command is one it keeps failing. */
function scriptedApi() {
  const api = { down: false, failing: new Set<string>(), delivered: [] as string[] };
  const notifier: Notifier = {
    target: 'pager',
    handles: new Set(['PostSlackMessage']),
    execute: async (c) => {
      if (api.down || api.failing.has(c.id)) throw new DeliveryError('pager answered HTTP 503', false, 503);
      api.delivered.push(c.id);
      return { type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: '1700000000.000100', purpose: 'root' } };
    },
    dryRun: () => ({ type: 'SlackMessagePosted', data: {} }),
  };
  return { api, notifier };
}

const resultsOf = async (c: AnyEnvelope) =>
  (await readTopic(env.kafka, TOPICS.deliveries)).map((r) => r.event).filter((e): e is AnyEnvelope => (e?.data as { commandId?: string } | undefined)?.commandId === c.id);
const deadLettersOf = async (c: AnyEnvelope) =>
  (await readTopic(env.kafka, TOPICS.deadLetter)).filter((r) => r.event?.type === 'DeadLettered' && (r.event.data as DeadLetter).origin.value?.includes(c.id));
const metric = async (registry: Registry, name: string, outcome?: string) => {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.filter((v) => outcome === undefined || v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
};

async function send(commands: AnyEnvelope[], partition: number): Promise<void> {
  const p = env.kafka.producer();
  await p.connect();
  await p.send({ topic: TOPICS.slackCommands, acks: -1, messages: commands.map((c) => ({ key: c.alias, partition, value: JSON.stringify(c) })) });
  await p.disconnect();
}

/** A runner that has read what is on the shared topic already (answered at once, up to a marker in each partition), so only the test's commands follow. */
async function caughtUpRunner(notifier: Notifier, api: { delivered: string[] }, registry: Registry, sink: string) {
  await env.runner?.stop();
  env.runner = env.runnerOf(sink, notifier, { retryPolicy: BUDGET, registry });
  await env.runner.start();
  const markers = Array.from({ length: KEYED_PARTITIONS }, (_, partition) => slackRootCommand(`alertmanager:budget-marker-${sink}-${partition}`, 'marker'));
  for (const [partition, marker] of markers.entries()) await send([marker], partition);
  await waitFor(() => markers.every((m) => api.delivered.includes(m.id)), { what: 'the runner caught up with every partition', timeoutMs: 120_000 });
}

test('an outage longer than the budget is said once; the command keeps waiting and is delivered once when the API is back', async () => {
  const sink = `test-sink-${randomUUID().slice(0, 8)}`;
  const registry = createRegistry(sink);
  const { api, notifier } = scriptedApi();
  await caughtUpRunner(notifier, api, registry, sink);

  api.down = true;
  const page = slackRootCommand(`alertmanager:budget-outage-${sink}`, 'paged through an outage');
  await send([page], 0);
  // Attempts after the budget's end: each a DeliveryDelayed whose budgetEndsAt has passed.
  const pastBudget = (e: AnyEnvelope) => e.type === 'DeliveryDelayed' && e.occurredAt > (e.data as { budgetEndsAt: string }).budgetEndsAt;
  await waitFor(async () => (await resultsOf(page)).filter(pastBudget).length >= 3, { what: 'three attempts after the budget ended', timeoutMs: 60_000, intervalMs: 200 });

  expect((await resultsOf(page)).map((e) => e.type).filter((t) => t !== 'DeliveryDelayed')).toEqual([]);
  expect(await deadLettersOf(page)).toEqual([]);
  expect(await metric(registry, 'alertbus_sink_deliveries_total', 'failed-budget-spent')).toBe(1);
  expect(await metric(registry, 'alertbus_deliveries_past_budget')).toBe(1);
  expect((await env.pool.query('SELECT status FROM sink_commands WHERE sink = $1 AND command_id = $2', [sink, page.id])).rows[0].status).toMatch(/^(delayed|started)$/);

  api.down = false;
  const delivered = await waitFor(async () => (await resultsOf(page)).find((e) => e.type !== 'DeliveryDelayed'), { what: 'the page delivered', intervalMs: 200 });
  expect(delivered.type).toBe('SlackMessagePosted');
  expect(api.delivered.filter((id) => id === page.id)).toHaveLength(1);
  expect(await deadLettersOf(page)).toEqual([]);
  expect(await metric(registry, 'alertbus_sink_deliveries_total', 'failed-budget-spent')).toBe(1);
  expect(await metric(registry, 'alertbus_deliveries_past_budget')).toBe(0);
});

test('a command the API keeps failing while others go through is dead-lettered once the budget is spent; its partition moves on', async () => {
  const sink = `test-sink-${randomUUID().slice(0, 8)}`;
  const registry = createRegistry(sink);
  const { api, notifier } = scriptedApi();
  await caughtUpRunner(notifier, api, registry, sink);

  const doomed = slackRootCommand(`alertmanager:budget-doomed-${sink}`, 'the API fails on this one');
  const next = slackRootCommand(`alertmanager:budget-next-${sink}`, 'behind it in its partition');
  api.failing.add(doomed.id);
  await send([doomed, next], 0);
  // Other incidents (another partition) keep going through while it fails.
  let streaming = true;
  const others = (async () => {
    for (let i = 0; streaming; i++) {
      await send([slackRootCommand(`alertmanager:budget-other-${sink}-${i}`, 'goes through')], 1);
      await sleep(50);
    }
  })();
  let failed: AnyEnvelope;
  try {
    failed = await waitFor(async () => (await resultsOf(doomed)).find((e) => e.type === 'DeliveryFailed'), { what: 'the doomed command failed', timeoutMs: 60_000, intervalMs: 200 });
  } finally {
    streaming = false;
    await others;
  }
  expect(failed.data).toMatchObject({ permanent: false, httpStatus: 503, target: 'pager' });
  expect((failed.data as { error: string }).error).toMatch(/retry budget spent.*other commands were delivered meanwhile/);
  expect(await waitFor(async () => (await deadLettersOf(doomed)).length, { what: 'the dead letter' })).toBe(1);
  expect(await waitFor(async () => (await resultsOf(next)).find((e) => e.type === 'SlackMessagePosted'), { what: 'the next command delivered' })).toBeDefined();
  expect(await metric(registry, 'alertbus_sink_deliveries_total', 'failed-budget-spent')).toBe(1);
});

test('a dead-lettered command whose last attempt got no answer is looked for first when redriven: it is not made twice', async () => {
  const sink = `test-sink-${randomUUID().slice(0, 8)}`;
  const registry = createRegistry(sink);
  const { api, notifier } = scriptedApi();
  const lost = slackRootCommand(`alertmanager:budget-lost-${sink}`, 'every answer to this one is lost');
  // The API takes each call for it but the answer never comes (a timeout). Its history shows the post only later (a
  // look-up during the budget finds nothing), so the budget is spent and the command dead-lettered.
  const calls: string[] = [];
  let shown = false;
  const lossy: Notifier = {
    ...notifier,
    execute: async (c) => {
      if (c.id !== lost.id) return notifier.execute(c, 1);
      calls.push(c.id);
      throw new DeliveryError('request to Slack failed: timeout of 10000ms exceeded', false);
    },
    reconcile: async (c) => (c.id === lost.id && shown ? { type: 'SlackMessagePosted', data: { channel: 'C0ALERTS', ts: '1700000000.000200', purpose: 'root' } } : undefined),
  };
  await caughtUpRunner(lossy, api, registry, sink);

  await send([lost], 0);
  let streaming = true;
  const others = (async () => {
    for (let i = 0; streaming; i++) {
      await send([slackRootCommand(`alertmanager:budget-lost-other-${sink}-${i}`, 'goes through')], 1);
      await sleep(50);
    }
  })();
  let dead: Envelope<'DeadLettered'>;
  try {
    dead = await waitFor(async () => (await deadLettersOf(lost))[0]?.event as Envelope<'DeadLettered'> | undefined, { what: 'the dead letter', timeoutMs: 60_000, intervalMs: 200 });
  } finally {
    streaming = false;
    await others;
  }
  const before = calls.length;
  expect(before).toBeGreaterThan(1);

  // The last call did post; redriven, the command finds it and completes without posting again.
  shown = true;
  const { topic, partition, message } = redriveRecord(dead, 'jane.sre');
  const p = env.kafka.producer();
  await p.connect();
  await p.send({ topic, acks: -1, messages: [{ ...message, partition }] });
  await p.disconnect();
  const posted = await waitFor(async () => (await resultsOf(lost)).find((e) => e.type === 'SlackMessagePosted'), { what: 'the redriven command completed', intervalMs: 200 });
  expect(posted.data).toMatchObject({ ts: '1700000000.000200' });
  expect(calls).toHaveLength(before);
  expect(await metric(registry, 'alertbus_sink_deliveries_total', 'reconciled')).toBe(1);
});
