/** The test database of an integration test file: created and opened before its tests, closed and dropped after them. */
import { createPool, ensureDatabase, type Pool } from '@alertbus/common';
import { dropTestDatabase } from '../../../../test/support/db';

export async function openTestDatabase(): Promise<Pool> {
  await ensureDatabase(process.env.DATABASE_URL!);
  return createPool(process.env.DATABASE_URL!);
}

export async function closeTestDatabase(pool: Pool | undefined): Promise<void> {
  await pool?.end();
  await dropTestDatabase();
}
