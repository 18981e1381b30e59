/**
 * The history app on a migrated test database, listening on a free port, for the API's integration tests: the rows
 * are put in by `load` before the app starts, and the clock reads `now`.
 */
import type { AddressInfo } from 'node:net';
import { loadMigrations, migrate, type Pool } from '@alertbus/common';
import { MIGRATIONS_DIR } from '@alertbus/projection';
import { buildApp } from '../app';
import { createHistoryMetrics } from '../metrics';
import { closeTestDatabase, openTestDatabase } from './database';

export interface TestHistoryApp {
  pool: Pool;
  app: ReturnType<typeof buildApp>;
  url: string;
}

/** The app on `pool`, always ready, reads open to all, its clock stopped at `now`. */
export function buildTestApp(pool: Pool, now: Date): ReturnType<typeof buildApp> {
  return buildApp({ pool, registry: createHistoryMetrics().registry, ready: async () => null, now: () => now, auth: { tokens: [], readsOpen: true } });
}

export async function startTestHistoryApp(now: Date, load: (pool: Pool) => Promise<unknown>): Promise<TestHistoryApp> {
  const pool = await openTestDatabase();
  await migrate(pool, 'history', loadMigrations(MIGRATIONS_DIR));
  await load(pool);
  const app = buildTestApp(pool, now);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { pool, app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

export async function stopTestHistoryApp(running: Partial<TestHistoryApp>): Promise<void> {
  await running.app?.close();
  await closeTestDatabase(running.pool);
}
