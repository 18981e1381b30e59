/**
 * `alertbus history rebuild` against real Kafka and Postgres: a realistic stream projected live, then rebuilt
 * from the log into a separate schema and swapped in, with the same checksum; also while events keep coming.
 */
import { Client } from 'pg';
import type { Kafka } from 'kafkajs';
import { ensureDatabase } from '@alertbus/common';
import { MIGRATIONS_DIR, rebuildProjection } from '@alertbus/projection';
import { dropTestDatabase } from '../../../../test/support/db';
import { testBrokers, testKafka } from '../../../../test/support/kafka';
import { waitFor } from '../../../../test/support/wait';
import { startHistory, type HistoryService } from '../index';
import { abortedEvent, produceStream } from '../testdata/produce';
import { runCli } from '../../../../test/support/cli';
import { buildStream } from '../testdata/stream';

let kafka: Kafka;
let service: HistoryService;
const first = buildStream({ aliases: 40, seed: 'rebuild-1' });
let expectedEvents = first.events.length;

const timelineRows = async () => Number((await service.pool.query('SELECT count(*) FROM incident_timeline')).rows[0].count);
const totalOf = (out: string) => /^total\s+sha256:([0-9a-f]{64})$/m.exec(out)?.[1];

async function caughtUp(): Promise<void> {
  await waitFor(async () => (await timelineRows()) === expectedEvents, { what: `${expectedEvents} events projected`, timeoutMs: 120_000 });
}

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-rebuild');
  await produceStream(kafka, first.events, { abortOne: true });
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
});

afterAll(async () => {
  await service?.close();
  await dropTestDatabase();
});

describe('history rebuild', () => {
  it('rebuilds from the log the projection the live service built, checksum for checksum, and swaps it in', async () => {
    await caughtUp();
    const live = await runCli('history', 'checksum');
    expect(live.exitCode).toBe(0);
    expect(live.stdout).toMatch(/^incident_timeline\s+\d+ rows\s+sha256:[0-9a-f]{64}$/m);

    const rebuilt = await runCli('history', 'rebuild');

    expect(rebuilt.stderr).toMatch(/rebuild: replay/); // progress
    expect(rebuilt.stdout).toContain('rebuilt projection: identical to the live projection at the same offsets');
    expect(rebuilt.stdout).toContain('swapped in');
    expect(rebuilt.exitCode).toBe(0);
    expect(totalOf(rebuilt.stdout)).toBe(totalOf(live.stdout));
    expect(totalOf((await runCli('history', 'checksum')).stdout)).toBe(totalOf(live.stdout));
    // The sender's times are among the rows compared, as the stream's Alertmanager and Grafana alerts gave them.
    const senderTimes = await service.pool.query<{ started: number; ended: number }>(
      'SELECT count(started_at)::int AS started, count(ended_at)::int AS ended FROM incidents',
    );
    expect(senderTimes.rows[0]!.started).toBeGreaterThan(0);
    expect(senderTimes.rows[0]!.ended).toBeGreaterThan(0);
    // So are the names of who acknowledged, beside their ids, and the ids alone of acknowledgements that named nobody.
    const acked = await service.pool.query<{ named: number; unnamed: number }>(
      'SELECT count(acknowledged_by_name)::int AS named, count(*) FILTER (WHERE acknowledged_by IS NOT NULL AND acknowledged_by_name IS NULL)::int AS unnamed FROM incidents',
    );
    expect(acked.rows[0]!.named).toBeGreaterThan(0);
    expect(acked.rows[0]!.unnamed).toBeGreaterThan(0);
    // Nothing of the aborted transaction, and the rebuild schema is gone.
    const { rows } = await service.pool.query('SELECT count(*)::int AS n FROM incident_timeline WHERE event_id = $1', [abortedEvent(first.events[0]!.alias).id]);
    expect(rows[0].n).toBe(0);
    const schemas = await service.pool.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'history_%'");
    expect(schemas.rows).toEqual([]);
  });

  it('replays the delivery results after the decisions: no new incident looks its deliveries up, and the rows are the same', async () => {
    await caughtUp();

    const result = await rebuildProjection({ databaseUrl: process.env.DATABASE_URL!, kafka, migrationsDir: MIGRATIONS_DIR, swap: false });

    expect(result.matches).toBe(true);
    expect(result.applied).toBe(expectedEvents);
    expect(result.deliveryLookUps).toBe(0);
    // The live projection stood still: the live tables were summed while the replay ran, not after it.
    expect(result.phases.liveSummedDuringReplay).toBe(true);
  });

  it('sums the live tables again after the replay when the live projection moved meanwhile, and still compares them right', async () => {
    await caughtUp();
    const more = buildStream({ aliases: 3, seed: 'rebuild-moved', start: '2025-03-01T08:00:00.000Z' });
    // The live projector cannot store anything while its offset rows are held: the live tables stand at the old offsets.
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    let held = true;
    let released: Promise<unknown> = Promise.resolve();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT next_offset FROM projection_offsets FOR UPDATE');
      await produceStream(kafka, more.events);
      expectedEvents += more.events.length;
      const rebuilding = rebuildProjection({
        databaseUrl: process.env.DATABASE_URL!,
        kafka,
        migrationsDir: MIGRATIONS_DIR,
        swap: false,
        // Once the replay runs, the snapshot taken beside it has read the old offsets: let the live projector go on.
        onProgress: (p) => {
          if (p.phase !== 'replay' || !held) return;
          held = false;
          released = holder.query('COMMIT');
        },
      });
      const result = await rebuilding;
      await released;

      expect(result.notCompared).toBeNull();
      expect(result.matches).toBe(true);
      expect(result.applied).toBe(expectedEvents);
      expect(result.phases.liveSummedDuringReplay).toBe(false);
    } finally {
      if (held) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
    }
    await caughtUp();
  }, 120_000);

  it('the live service goes on projecting into the swapped-in tables', async () => {
    const more = buildStream({ aliases: 3, seed: 'rebuild-2', start: '2025-03-02T08:00:00.000Z' });
    expectedEvents += more.events.length;
    await produceStream(kafka, more.events);

    await caughtUp();
    const res = await fetch(`${service.url}/api/incidents?alias=${encodeURIComponent(more.aliases[0]!.alias)}`);
    expect(((await res.json()) as { incidents: unknown[] }).incidents).toHaveLength(more.aliases[0]!.incidentIds.length);
  });

  it('is safe while events keep arriving: nothing lost, nothing applied twice, and a later check still matches', async () => {
    const busy = buildStream({ aliases: 25, seed: 'rebuild-3', start: '2025-03-03T08:00:00.000Z' });
    expectedEvents += busy.events.length;
    const writing = (async () => {
      for (let i = 0; i < busy.events.length; i += 20) await produceStream(kafka, busy.events.slice(i, i + 20));
    })();

    const rebuilt = await runCli('history', 'rebuild');
    await writing;

    // Its output with the exit code, so a failure says which step refused.
    expect({ exitCode: rebuilt.exitCode, stdout: rebuilt.stdout, stderr: rebuilt.stderr.slice(-3000) }).toMatchObject({ exitCode: 0 });
    expect(rebuilt.stdout).toContain('swapped in');
    await caughtUp();
    const { rows } = await service.pool.query('SELECT count(DISTINCT event_id)::int AS n, count(*)::int AS total FROM incident_timeline');
    expect(rows[0]).toEqual({ n: expectedEvents, total: expectedEvents });
    const check = await runCli('history', 'rebuild', '--no-swap');
    expect(check.stdout).toContain('identical to the live projection');
    expect(check.stdout).toContain('not swapped in');
  });

  it('swaps in while a projector transaction holds its offset row and then writes: no deadlock that fails the rebuild', async () => {
    // As the live projector's transactions do: its partition's offset row locked first, the other tables written after.
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT next_offset FROM projection_offsets LIMIT 1 FOR UPDATE');
      const rebuilding = runCli('history', 'rebuild');
      const swapWaiting = async () =>
        (await service.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE%'")).rows[0].n > 0;
      await waitFor(swapWaiting, { what: 'the swap waiting for the held offset row', timeoutMs: 90_000 });
      // Locking the offsets last, the swap held incidents here: this write waited for it, and Postgres failed the swap.
      await holder.query('UPDATE incidents SET title = title WHERE false');
      await holder.query('COMMIT');
      const rebuilt = await rebuilding;
      expect({ exitCode: rebuilt.exitCode, stdout: rebuilt.stdout, stderr: rebuilt.stderr.slice(-3000) }).toMatchObject({ exitCode: 0 });
      expect(rebuilt.stdout).toContain('swapped in');
    } finally {
      await holder.end();
    }
  }, 150_000);

  it('says so when the live projection differs from the log, and replaces it', async () => {
    await service.pool.query(
      `UPDATE incidents SET title = 'edited by hand' WHERE incident_id = $1`,
      [first.aliases[0]!.incidentIds[0]],
    );

    const rebuilt = await runCli('history', 'rebuild');

    expect(rebuilt.stdout).toContain('DIFFERENT from the live projection');
    expect(rebuilt.exitCode).toBe(1);
    const { rows } = await service.pool.query('SELECT title FROM incidents WHERE incident_id = $1', [first.aliases[0]!.incidentIds[0]]);
    expect(rows[0].title).toBe(first.aliases[0]!.title);
  });

  it("refuses to replace another installation's history (another KAFKA_TOPIC_PREFIX on the same database)", async () => {
    const before = totalOf((await runCli('history', 'checksum')).stdout);
    const prefix = process.env.KAFKA_TOPIC_PREFIX!;
    process.env.KAFKA_TOPIC_PREFIX = `${prefix}other.`;
    let refused;
    try {
      refused = await runCli('history', 'rebuild');
    } finally {
      process.env.KAFKA_TOPIC_PREFIX = prefix;
    }
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`the live projection in this database holds the history of "${prefix}alertbus-history", not of "${prefix}other.alertbus-history"`);
    expect(refused.stderr).toContain('KAFKA_TOPIC_PREFIX or DATABASE_URL points at another installation');
    expect(totalOf((await runCli('history', 'checksum')).stdout)).toBe(before);
  });

  it('refuses to run twice at the same time', async () => {
    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(7423101)');
      const second = await runCli('history', 'rebuild');
      expect(second.exitCode).toBe(1);
      expect(second.stderr).toContain('another history rebuild is running');
    } finally {
      await holder.end();
    }
  });
});
