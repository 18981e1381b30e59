import { Client } from 'pg';

/** Drops the current test file's database (created on demand by the services under test). */
export async function dropTestDatabase(url = process.env.DATABASE_URL!): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  if (!name.startsWith('alertbus_test_')) throw new Error(`refusing to drop ${name}`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
