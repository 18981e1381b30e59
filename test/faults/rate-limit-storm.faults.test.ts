/**
 * A 429 storm on both APIs at once in the middle of a stream: for 20 s every Slack and pager call is answered
 * 429 with `Retry-After: 70` (Slack's `ratelimited`, Opsgenie's THROTTLED headers). Today a Retry-After over 60 s
 * is not waited out: the command fails at once and is dead-lettered. Every Retry-After must be honoured, however
 * long: each command waits its 70 s, is retried no sooner, and is delivered exactly once.
 */
import type { OpsgenieCall, SlackCallRecord } from '@alertbus/stand-ins';
import { dropTestDatabase } from '../support/db';
import { delayedCommands } from '../support/exactly-once';
import { FAULT_TEST_TIMEOUT_MS, report, sleep, startFaultRun, type FaultRun } from '../support/fault-run';

const RETRY_AFTER_S = 70;
const STORM_MS = 20_000;

let run: FaultRun | undefined;

beforeAll(async () => {
  run = await startFaultRun({ stream: { prefix: 'rls', ratePerSec: 1, resolveEvery: 4, resolveLag: 6 } });
}, 180_000);

afterAll(async () => {
  await run?.stop();
  await dropTestDatabase();
});

/** The command a Slack call was made for, from the metadata every alertbus message carries. */
function slackCommand(c: SlackCallRecord): string | undefined {
  const raw = c.args.metadata;
  try {
    const meta = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { event_payload?: { command_id?: string } } | undefined;
    return meta?.event_payload?.command_id ? `${c.method} ${meta.event_payload.command_id}` : undefined;
  } catch {
    return undefined;
  }
}

function pagerCommand(c: OpsgenieCall): string | undefined {
  const alias = c.route === 'create' ? (c.body as { alias?: string } | undefined)?.alias : c.identifierType === 'alias' ? c.identifier : undefined;
  return alias ? `${c.route} ${alias}` : undefined;
}

/** Calls for the same command made before the Retry-After of its last 429 had passed. */
function earlyRetries<C extends { at: string; status: number }>(calls: readonly C[], key: (c: C) => string | undefined): string[] {
  const limitedUntil = new Map<string, number>();
  const early: string[] = [];
  for (const c of [...calls].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    const k = key(c);
    if (!k) continue;
    const at = Date.parse(c.at);
    const until = limitedUntil.get(k);
    if (until !== undefined && at < until - 1_000) early.push(`${k} ${Math.round((until - at) / 1000)} s early`);
    if (c.status === 429) limitedUntil.set(k, at + RETRY_AFTER_S * 1000);
  }
  return early;
}

test(`429 storm with Retry-After ${RETRY_AFTER_S} s on Slack and the pager: waited out, everything delivered once`, async () => {
  const { full, stream } = run!;
  stream.start();
  await sleep(10_000);
  full.slack.state.failFor('*', { status: 429, retryAfter: RETRY_AFTER_S }, STORM_MS);
  full.opsgenie.state.failFor('*', { status: 429, retryAfter: RETRY_AFTER_S }, STORM_MS);
  await sleep(STORM_MS + 10_000);

  const result = await run!.finish();
  const limitedSlack = full.slack.state.calls.filter((c) => c.status === 429).length;
  const limitedPager = full.opsgenie.state.calls.filter((c) => c.status === 429).length;
  const early = [...earlyRetries(full.slack.state.calls, slackCommand), ...earlyRetries(full.opsgenie.state.calls, pagerCommand)];
  const delayed = delayedCommands(result.observation);
  const actual = {
    ...result.summary,
    'calls made before their Retry-After': early.length,
    'slack commands that emitted DeliveryDelayed': delayed.slack > 0,
    'pager commands that emitted DeliveryDelayed': delayed.pager > 0,
  };
  const expected = {
    ...result.expected,
    'calls made before their Retry-After': 0,
    'slack commands that emitted DeliveryDelayed': true,
    'pager commands that emitted DeliveryDelayed': true,
  };
  report(`429 storm (${limitedSlack} Slack and ${limitedPager} pager calls answered 429)`, actual, expected, [
    ...result.details,
    ...early.slice(0, 5),
  ]);
  expect(limitedSlack).toBeGreaterThan(0);
  expect(limitedPager).toBeGreaterThan(0);
  expect(actual).toEqual(expected);
}, FAULT_TEST_TIMEOUT_MS);
