/** The projection's tables are made by these migrations, owned by history (`schema_migrations.owner`). */
import { resolve } from 'node:path';

/** From src/ and from dist/ alike: both sit beside migrations/. */
export const MIGRATIONS_DIR = resolve(__dirname, '../migrations');
