/**
 * The on-call lookup when Postgres (its cache) fails, against the machine's real PostgreSQL reached through a
 * TCP proxy the test cuts, and the Slack and Opsgenie stand-ins over HTTP: a Postgres fault is the runner's to
 * retry (it is not Opsgenie failing, so it spends no attempt and is never the answer), and a cache write that
 * fails does not throw away the answer Opsgenie gave.
 */
import pino from 'pino';
import { createPool, DeliveryError, ensureDatabase, isInfrastructureError, type Pool } from '@alertbus/common';
import { OPSGENIE_STAND_IN_KEY, startOpsgenieStandIn, type OpsgenieStandIn } from '../../../../packages/stand-ins/src/opsgenie/server';
import { startSlackStandIn, type SlackStandIn } from '../../../../packages/stand-ins/src/slack/server';
import { dropTestDatabase } from '../../../../test/support/db';
import { TcpProxy } from '../../../../test/support/tcp-proxy';
import { SlackClient } from '../client';
import { migrateSlackSink } from '../index';
import type { TeamClient } from '../team-clients';
import { OnCallCache } from './cache';
import { DEFAULT_ONCALL_LOOKUP_ATTEMPTS, lookUpOnCall } from './lookup';
import { opsgenieOnCall } from './opsgenie';
import { OnCallResolver } from './resolver';

const TOKEN = 'xoxb-lookup-test';
const silent = pino({ level: 'silent' });
const LAST = DEFAULT_ONCALL_LOOKUP_ATTEMPTS;

let slack: SlackStandIn;
let opsgenie: OpsgenieStandIn;
let direct: Pool;
let proxy: TcpProxy;
let team: TeamClient;

const onCallCalls = (schedule: string) => opsgenie.state.calls.filter((c) => c.route === 'onCalls' && c.url.startsWith(`/v2/schedules/${schedule}/on-calls`)).length;

function resolverOn(pool: Pool, log = silent): OnCallResolver {
  return new OnCallResolver({
    provider: opsgenieOnCall({ apiUrl: opsgenie.url, apiKey: OPSGENIE_STAND_IN_KEY, timeoutMs: 5_000 }),
    slack: team.client,
    cache: new OnCallCache(pool),
    ttlMs: 60_000,
    log,
  });
}

beforeAll(async () => {
  slack = await startSlackStandIn({
    tokens: [TOKEN],
    channels: [{ id: 'C0OPS', name: 'ops' }],
    users: [{ id: 'U0ALICE', name: 'alice', email: 'alice@example.com' }],
  });
  opsgenie = await startOpsgenieStandIn({ onCall: { ops: ['alice@example.com'], db: ['alice@example.com'], standby: ['alice@example.com'] } });
  team = { client: new SlackClient({ token: TOKEN, apiUrl: slack.url, timeoutMs: 5_000, log: silent }), cacheTeam: '' };
  await ensureDatabase(process.env.DATABASE_URL!);
  direct = createPool(process.env.DATABASE_URL!);
  await migrateSlackSink(direct);
  const u = new URL(process.env.DATABASE_URL!);
  proxy = await TcpProxy.start({ host: u.hostname, port: Number(u.port || 5432) });
});

afterAll(async () => {
  await proxy?.close();
  await direct?.end();
  await slack?.close();
  await opsgenie?.close();
  await dropTestDatabase();
});

test('Postgres not answering: the lookup throws its fault for the runner to retry, at the first attempt and the last, and asks Opsgenie nothing', async () => {
  const pool = createPool(proxy.url(process.env.DATABASE_URL!), 2, { connectTimeoutMs: 1_000, statementTimeoutMs: 2_000 });
  try {
    const deps = { resolver: resolverOn(pool), log: silent };
    // A first answer through the proxy: the cache now holds ops's on-call.
    expect(await lookUpOnCall(deps, 'ops', 'cmd-0', 1, team)).toMatchObject({ outcome: 'mentioned', slackUserIds: ['U0ALICE'] });
    const before = onCallCalls('db');
    proxy.cut('refuse');
    for (const attempt of [1, LAST]) {
      const err = await lookUpOnCall(deps, 'db', `cmd-${attempt}`, attempt, team).then(
        (answer) => answer,
        (e: unknown) => e,
      );
      // Not an answer (a "lookup failed: Connection terminated…" in the thread), not an Opsgenie failure that
      // spends an attempt: the fault itself, which the consume loop retries until Postgres is back.
      expect(err).not.toHaveProperty('outcome');
      expect(err).not.toBeInstanceOf(DeliveryError);
      expect(String((err as Error).message)).toMatch(/ECONNREFUSED|ECONNRESET|Connection terminated/);
      expect(isInfrastructureError(err)).toBe(true);
    }
    expect(onCallCalls('db')).toBe(before);
    proxy.restore();
    expect(await lookUpOnCall(deps, 'db', 'cmd-5', LAST, team)).toMatchObject({ outcome: 'mentioned', slackUserIds: ['U0ALICE'], cached: false });
  } finally {
    proxy.restore();
    await pool.end();
  }
});

test('a cache write that fails (a read-only standby after a failover) keeps the answer Opsgenie gave', async () => {
  // The server refuses every write on these connections, as a standby does; reads still work.
  const readOnly = createPool(process.env.DATABASE_URL!, 2, undefined, { options: '-c default_transaction_read_only=on' });
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
  try {
    const answer = await lookUpOnCall({ resolver: resolverOn(readOnly, log), log }, 'standby', 'cmd-ro', 1, team);
    expect(answer).toMatchObject({ outcome: 'mentioned', slackUserIds: ['U0ALICE'], cached: false });
    expect(warnings.join('')).toContain('on-call cache write failed');
    expect(warnings.join('')).toContain('read-only transaction');
    // Nothing was cached: the next lookup asks Opsgenie again.
    const before = onCallCalls('standby');
    await lookUpOnCall({ resolver: resolverOn(direct), log: silent }, 'standby', 'cmd-next', 1, team);
    expect(onCallCalls('standby')).toBe(before + 1);
  } finally {
    await readOnly.end();
  }
});
