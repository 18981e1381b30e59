import { loadMigrations, migrate, type Pool } from '@alertbus/common';
import { applyProjections, checksum, MIGRATIONS_DIR } from '@alertbus/projection';
import { projected, stormEvents } from '@alertbus/projection/src/testdata/storm';
import { closeTestDatabase, openTestDatabase } from '../test-support/database';

let pool: Pool;

beforeAll(async () => {
  pool = await openTestDatabase();
});

afterAll(() => closeTestDatabase(pool));

const STORM_KINDS = new Set(['join-storm', 'link-storm-slack', 'link-storm-pager']);

async function apply(stormLinks: boolean): Promise<void> {
  const client = await pool.connect();
  try {
    const ps = projected(stormEvents()).map((p) => (stormLinks ? p : { ...p, changes: p.changes.filter((c) => !STORM_KINDS.has(c.kind)) }));
    await applyProjections(client, ps);
  } finally {
    client.release();
  }
}

test('migration 011 gives the storm members projected before it their channel, summary and page, equal to a replay', async () => {
  const all = loadMigrations(MIGRATIONS_DIR);
  // And 012, 014 and 017, whose columns (the sender's times, who acted by name and in which pager) the projection writes
  // today; they do not touch what 011 fills.
  await migrate(pool, 'history', all.filter((m) => m.version < 11 || m.version === 12 || m.version === 14 || m.version === 17));
  // As the projection wrote them before storm members had a Slack place and a page: no storm links at all.
  await apply(false);
  await migrate(pool, 'history', all);
  const migrated = await checksum(pool);
  const rows = (await pool.query('SELECT storm_slack_ts FROM incidents WHERE storm_slack_ts IS NOT NULL')).rowCount;

  await pool.query('TRUNCATE incidents, incident_timeline, deliveries');
  await apply(true);
  expect(await checksum(pool)).toEqual(migrated);
  expect(rows).toBe(3);
});
