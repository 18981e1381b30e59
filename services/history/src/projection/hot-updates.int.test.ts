/**
 * Incidents are inserted once and updated by most of their later events. An update that changes no indexed
 * column (a repeat: count and last event time) is written beside the old row on its page, without an entry in
 * each of the table's indexes, when the page has room: migration 008 leaves that room.
 */
import { createPool, ensureDatabase, inTransaction, loadMigrations, migrate, type Pool } from '@alertbus/common';
import { deriveId, topicOf, type AnyEnvelope } from '@alertbus/schemas';
import { dropTestDatabase } from '../../../../test/support/db';
import { applyProjections, MIGRATIONS_DIR, project } from '@alertbus/projection';
import { opened, repeated } from '@alertbus/projection/src/testdata/events';

let pool: Pool;

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  pool = createPool(process.env.DATABASE_URL!);
  await migrate(pool, 'history', loadMigrations(MIGRATIONS_DIR));
});

afterAll(async () => {
  await pool.end();
  await dropTestDatabase();
});

const INCIDENTS = 400;
const incidentId = (i: number) => deriveId('incident', 'hot-updates', i);

function repeatOf(i: number): AnyEnvelope {
  const e = repeated(2, 5);
  return { ...e, id: deriveId('hot-updates', 'repeated', i), data: { ...e.data, incidentId: incidentId(i) } };
}

const projections = (events: readonly AnyEnvelope[]) =>
  events.map((event, offset) => project(event, { topic: topicOf(event.type), partition: 0, offset: String(offset) }));

describe('repeats of incidents already stored', () => {
  it('are mostly updated in place on their page (HOT), not with a new entry in every index', async () => {
    const opens = Array.from({ length: INCIDENTS }, (_, i) => opened({ incidentId: incidentId(i) }));
    await inTransaction(pool, (client) => applyProjections(client, projections(opens)));
    const hot = await inTransaction(pool, async (client) => {
      await applyProjections(client, projections(Array.from({ length: INCIDENTS }, (_, i) => repeatOf(i))));
      // This transaction's own counts, before the commit (pg_stat_xact_*).
      const { rows } = await client.query<{ upd: string; hot: string }>(
        `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_xact_user_tables WHERE relname = 'incidents' AND schemaname = 'public'`,
      );
      return { updated: Number(rows[0]!.upd), hot: Number(rows[0]!.hot) };
    });
    expect(hot.updated).toBe(INCIDENTS);
    // Pages filled to 70 % took a new version of half their rows here (202 of 400); packed full, none (0).
    expect(hot.hot).toBeGreaterThan(INCIDENTS / 4);
    const { rows } = await pool.query<{ count: number }>('SELECT count FROM incidents WHERE incident_id = $1', [incidentId(7)]);
    expect(rows[0]!.count).toBe(2);
  });
});
