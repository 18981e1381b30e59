/**
 * The ledger's one-round-trip start for a new command, against the real Postgres: a command never seen is
 * recorded as started (attempt 1); any command already in the ledger (started, delayed, completed, failed) is
 * left exactly as it was, so the runner looks it up and decides as before.
 * A completion is one statement, the sink's own rows included.
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

/** The ledger on a pool that counts the statements sent (on the pool, and on clients taken from it). */
function counting(): { ledger: CommandLedger; statements: string[] } {
  const statements: string[] = [];
  const record = (q: unknown) => statements.push(typeof q === 'string' ? q.trim().split(/\s+/)[0]! : String((q as { text?: string }).text).trim().split(/\s+/)[0]!);
  const counted = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query') return (q: unknown, ...rest: unknown[]) => (record(q), (target.query as (...a: unknown[]) => unknown)(q, ...rest));
      if (prop === 'connect') {
        return async () => {
          const client = await target.connect();
          return new Proxy(client, {
            get(c, p, r) {
              if (p === 'query') return (q: unknown, ...rest: unknown[]) => (record(q), (c.query as (...a: unknown[]) => unknown).call(c, q, ...rest));
              const v = Reflect.get(c, p, r);
              return typeof v === 'function' ? v.bind(c) : v;
            },
          });
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { ledger: new CommandLedger(counted, 'ledger-test'), statements };
}

test("a completion is one statement, with or without rows of the sink's own", async () => {
  await pool.query('CREATE TABLE IF NOT EXISTS ledger_test_kept (command_id text PRIMARY KEY, n int NOT NULL CHECK (n > 0))');
  const { ledger: counted, statements } = counting();
  const plain = command();
  await counted.markStarted(plain);
  statements.length = 0;
  await counted.finish(plain.id, 'completed', []);
  expect(statements.map((s) => s.toUpperCase())).toEqual(['UPDATE']);
  expect(await ledger.lookup(plain.id)).toMatchObject({ status: 'completed' });

  const withRows = command();
  await counted.markStarted(withRows);
  statements.length = 0;
  await counted.finish(withRows.id, 'completed', [], { text: 'INSERT INTO ledger_test_kept (command_id, n) VALUES ($1, $2)', values: [withRows.id, 1] });
  expect(statements.map((s) => s.toUpperCase())).toEqual(['WITH']);
  expect(await ledger.lookup(withRows.id)).toMatchObject({ status: 'completed' });
  expect((await pool.query('SELECT n FROM ledger_test_kept WHERE command_id = $1', [withRows.id])).rows).toEqual([{ n: 1 }]);
});

test('a completion may keep several statements of the sink (an insert, and a delete of rows gone out of date): still one statement', async () => {
  await pool.query('CREATE TABLE IF NOT EXISTS ledger_test_kept (command_id text PRIMARY KEY, n int NOT NULL CHECK (n > 0))');
  const { ledger: counted, statements } = counting();
  const old = command();
  await pool.query('INSERT INTO ledger_test_kept (command_id, n) VALUES ($1, 100)', [old.id]);
  const cmd = command();
  await counted.markStarted(cmd);
  statements.length = 0;
  await counted.finish(cmd.id, 'completed', [], [
    { text: 'INSERT INTO ledger_test_kept (command_id, n) VALUES ($1, $2)', values: [cmd.id, 1] },
    { text: 'DELETE FROM ledger_test_kept WHERE command_id = $1', values: [old.id] },
  ]);
  expect(statements.map((s) => s.toUpperCase())).toEqual(['WITH']);
  expect(await ledger.lookup(cmd.id)).toMatchObject({ status: 'completed' });
  expect((await pool.query('SELECT command_id, n FROM ledger_test_kept WHERE command_id = ANY($1)', [[cmd.id, old.id]])).rows).toEqual([{ command_id: cmd.id, n: 1 }]);
});

test('a completion whose rows of the sink fail is not recorded, nor are the rows: the command stays started and runs again', async () => {
  await pool.query('CREATE TABLE IF NOT EXISTS ledger_test_kept (command_id text PRIMARY KEY, n int NOT NULL CHECK (n > 0))');
  const cmd = command();
  await ledger.markStarted(cmd);
  await expect(
    ledger.finish(cmd.id, 'completed', [], { text: 'INSERT INTO ledger_test_kept (command_id, n) VALUES ($1, $2)', values: [cmd.id, 0] }),
  ).rejects.toThrow(/ledger_test_kept/);
  expect(await ledger.lookup(cmd.id)).toMatchObject({ status: 'started' });
  expect((await pool.query('SELECT n FROM ledger_test_kept WHERE command_id = $1', [cmd.id])).rows).toEqual([]);
});

test('starts asked for at the same time are one statement; each caller learns whether its own command was new', async () => {
  const { ledger: counted, statements } = counting();
  const seen = command();
  await ledger.markStarted(seen, new Date('2026-11-30T08:00:00Z'));
  const fresh = Array.from({ length: 8 }, () => command());
  const now = new Date('2026-11-30T09:00:00Z');
  statements.length = 0;
  const answers = await Promise.all([...fresh, seen].map((cmd) => counted.startIfNew(cmd, now)));
  expect(statements.map((s) => s.toUpperCase())).toEqual(['INSERT']);
  expect(answers).toEqual([...fresh.map(() => ({ attempts: 1, firstAttemptAt: now })), undefined]);
  for (const cmd of fresh) expect(await ledger.lookup(cmd.id)).toMatchObject({ status: 'started', attempts: 1, firstAttemptAt: now });
  expect(await ledger.lookup(seen.id)).toMatchObject({ status: 'started', attempts: 1, firstAttemptAt: new Date('2026-11-30T08:00:00Z') });
});

test('the same command asked for twice at once is new to the first call only', async () => {
  const cmd = command();
  const now = new Date('2026-11-30T09:00:00Z');
  const answers = await Promise.all([ledger.startIfNew(cmd, now), ledger.startIfNew(cmd, now)]);
  expect(answers).toEqual([{ attempts: 1, firstAttemptAt: now }, undefined]);
});

test("completions asked for at the same time are one statement, the sink's rows of each included", async () => {
  await pool.query('CREATE TABLE IF NOT EXISTS ledger_test_kept (command_id text PRIMARY KEY, n int NOT NULL CHECK (n > 0))');
  const { ledger: counted, statements } = counting();
  const cmds = Array.from({ length: 6 }, () => command());
  for (const cmd of cmds) await ledger.markStarted(cmd);
  statements.length = 0;
  await Promise.all(
    cmds.map((cmd, i) =>
      counted.finish(cmd.id, i === 5 ? 'failed' : 'completed', [cmd], i % 2 === 0 ? { text: 'INSERT INTO ledger_test_kept (command_id, n) VALUES ($1, $2)', values: [cmd.id, i + 1] } : undefined),
    ),
  );
  expect(statements.map((s) => s.toUpperCase())).toEqual(['WITH']);
  for (const [i, cmd] of cmds.entries()) {
    expect(await ledger.lookup(cmd.id)).toMatchObject({ status: i === 5 ? 'failed' : 'completed', result: [JSON.parse(JSON.stringify(cmd))] });
    const kept = (await pool.query('SELECT n FROM ledger_test_kept WHERE command_id = $1', [cmd.id])).rows;
    expect(kept).toEqual(i % 2 === 0 ? [{ n: i + 1 }] : []);
  }
});

test("a completion of a batch whose rows fail fails alone: the others of its statement are recorded with their rows", async () => {
  await pool.query('CREATE TABLE IF NOT EXISTS ledger_test_kept (command_id text PRIMARY KEY, n int NOT NULL CHECK (n > 0))');
  const [good, bad, plain] = [command(), command(), command()];
  for (const cmd of [good, bad, plain]) await ledger.markStarted(cmd);
  const keep = (cmd: AnyEnvelope, n: number) => ({ text: 'INSERT INTO ledger_test_kept (command_id, n) VALUES ($1, $2)', values: [cmd.id, n] });
  const results = await Promise.allSettled([
    ledger.finish(good.id, 'completed', [], keep(good, 1)),
    ledger.finish(bad.id, 'completed', [], keep(bad, 0)),
    ledger.finish(plain.id, 'completed', []),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(await ledger.lookup(good.id)).toMatchObject({ status: 'completed' });
  expect(await ledger.lookup(plain.id)).toMatchObject({ status: 'completed' });
  expect(await ledger.lookup(bad.id)).toMatchObject({ status: 'started' });
  expect((await pool.query('SELECT command_id FROM ledger_test_kept WHERE command_id = ANY($1) ORDER BY n', [[good.id, bad.id]])).rows).toEqual([{ command_id: good.id }]);
});
