/** A history database for one test file: created and migrated before its tests, dropped after them. */
import { createPool, ensureDatabase, loadMigrations, migrate, type Pool } from '@alertbus/common';
import { dropTestDatabase } from '../../../../test/support/db';
import { MIGRATIONS_DIR } from '../migrations';

/** Registers the file's beforeAll/afterAll; `pool` is usable inside the tests. */
export function historyDatabase(): { readonly pool: Pool } {
  let pool: Pool | undefined;
  beforeAll(async () => {
    await ensureDatabase(process.env.DATABASE_URL!);
    pool = createPool(process.env.DATABASE_URL!);
    await migrate(pool, 'history', loadMigrations(MIGRATIONS_DIR));
  });
  afterAll(async () => {
    await pool?.end();
    await dropTestDatabase();
  });
  return {
    get pool() {
      if (!pool) throw new Error('the history database is set up in beforeAll; use it inside a test');
      return pool;
    },
  };
}
