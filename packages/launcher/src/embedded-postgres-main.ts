/**
 * The embedded PostgreSQL server's own process (started by ./embedded-postgres.ts under the Supervisor).
 * Env: ALERTBUS_PG_DATA (data folder), ALERTBUS_PG_PORT, ALERTBUS_PG_PASSWORD (the superuser's, set at
 * initdb). Initialises the folder on first start (into a temp folder renamed into place, so an interrupted
 * initdb leaves nothing half-made), serves on 127.0.0.1 only, and stops the server on SIGTERM/SIGINT or when
 * its parent goes away (end of stdin). The server's own log goes to `<data folder>.log`; this process prints
 * only what a person starting alertbus needs, and the log's last lines when something fails.
 */
import { createWriteStream, existsSync, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';

interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresServer;

function fail(message: string): never {
  process.stderr.write(`embedded PostgreSQL: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const dataDir = process.env.ALERTBUS_PG_DATA;
  const port = Number(process.env.ALERTBUS_PG_PORT);
  const password = process.env.ALERTBUS_PG_PASSWORD;
  if (!dataDir || !Number.isInteger(port) || !password) fail('ALERTBUS_PG_DATA, ALERTBUS_PG_PORT and ALERTBUS_PG_PASSWORD are required');

  // An ES module: a real dynamic import, also from compiled CommonJS (where tsc would turn import() into require()).
  const importModule = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{ default: EmbeddedPostgresClass }>;
  const { default: EmbeddedPostgres } = await importModule('embedded-postgres');
  const isRoot = process.getuid?.() === 0;
  const logFile = `${dataDir}.log`;
  await fsp.mkdir(path.dirname(dataDir), { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  const recent: string[] = [];
  const options = (databaseDir: string) => ({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root: run it as `postgres`, creating that user if the machine has none.
    createPostgresUser: isRoot,
    // TCP on 127.0.0.1 only; no Unix socket, so nothing lands in /tmp or /var/run/postgresql.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => {
      for (const line of message.split('\n')) {
        if (!line.trim()) continue;
        recent.push(line);
        if (recent.length > 20) recent.shift();
        log.write(`${line}\n`);
      }
    },
    onError: (err: unknown) => process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`),
  });
  const why = (stage: string, err: unknown) => {
    const msg = `${err instanceof Error ? `${err.message}\n` : ''}${recent.slice(-8).join('\n') || 'no output'}`.trim();
    const hint =
      isRoot && /permission denied/i.test(`${msg} ${recent.join(' ')}`)
        ? ` — PostgreSQL runs as the user postgres here (it refuses root): every folder above ${dataDir} must be searchable by that user (chmod o+x), or set DATABASE_URL`
        : '';
    return `${stage} failed (log: ${logFile}): ${msg}${hint}`;
  };

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const tmp = `${dataDir}.init-${process.pid}`;
    await fsp.rm(tmp, { recursive: true, force: true });
    process.stdout.write(`initialising a new database cluster in ${dataDir}\n`);
    try {
      await new EmbeddedPostgres(options(tmp)).initialise();
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true });
      fail(why('initdb', err));
    }
    await fsp.rm(dataDir, { recursive: true, force: true }); // an empty or half-made folder from before
    await fsp.rename(tmp, dataDir);
  }

  const server = new EmbeddedPostgres(options(dataDir));
  try {
    await server.start();
  } catch (err) {
    fail(why('start', err));
  }
  process.stdout.write(`ready on 127.0.0.1:${port} (log: ${logFile})\n`);
  // The library keeps the server's child process to itself; watch it, so a crash ends this process too.
  let stopping = false;
  const child = (server as unknown as { process?: ChildProcess }).process;
  child?.once('exit', (code, signal) => {
    if (!stopping) fail(`the server exited (${signal ?? `exit code ${code}`}; log: ${logFile}):\n${recent.slice(-8).join('\n')}`);
  });
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(code);
  };
  // embedded-postgres stops its servers on SIGINT/SIGTERM itself; end of stdin means the parent is gone.
  process.stdin.on('end', () => void stop(0));
  process.stdin.on('error', () => void stop(0));
  process.stdin.resume();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stopping = true));
}

main().catch((err: unknown) => fail((err as Error)?.stack ?? String(err)));
