/**
 * The ledger's one-round-trip start for a new command, against the real Postgres: a command never seen is
 * recorded as started (attempt 1); any command already in the ledger (started, delayed, completed, failed) is
 * left exactly as it was, so the runner looks it up and decides as before.
 */
import { createPool, ensureDatabase, type Pool } from '@alertbus/common';
import { makeEnvelope, type AnyEnvelope } from '@alertbus/schemas';
import { CommandLedger, migrateLedger } from './ledger';

let pool: Pool;
let ledger: CommandLedger;

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  pool = createPool(process.env.DATABASE_URL!, 2);
  await migrateLedger(pool);
  ledger = new CommandLedger(pool, 'ledger-test');
});

afterAll(async () => {
  await pool.end();
});

let n = 0;
function command(): AnyEnvelope {
  n += 1;
  const at = new Date().toISOString();
  return makeEnvelope({
    id: `01JLEDGERTEST${String(n).padStart(13, '0')}`,
    type: 'ClosePagerAlert',
    alias: `ledger-test-${n}`,
    occurredAt: at,
    recordedAt: at,
    source: 'router',
    data: { incidentId: `inc-${n}`, note: 'resolved' },
  } as never) as AnyEnvelope;
}

test('a command never seen is started in one call: attempt 1, from now', async () => {
  const cmd = command();
  const now = new Date('2026-11-30T09:00:00Z');
  expect(await ledger.startIfNew(cmd, now)).toEqual({ attempts: 1, firstAttemptAt: now });
  expect(await ledger.lookup(cmd.id)).toMatchObject({ status: 'started', runs: 1, attempts: 1, firstAttemptAt: now });
});

test('a command already in the ledger is left as it was, whatever its status', async () => {
  const started = command();
  await ledger.markStarted(started, new Date('2026-11-30T08:00:00Z'));
  const completed = command();
  await ledger.markStarted(completed);
  await ledger.finish(completed.id, 'completed', []);
  const delayed = command();
  await ledger.markStarted(delayed);
  await ledger.markDelayed(delayed.id, new Date('2026-11-30T10:00:00Z'), 'HTTP 503');

  for (const cmd of [started, completed, delayed]) {
    const before = await ledger.lookup(cmd.id);
    expect(await ledger.startIfNew(cmd, new Date())).toBeUndefined();
    expect(await ledger.lookup(cmd.id)).toEqual(before);
  }
});
