/**
 * The embedded PostgreSQL server's own process (started by ./embedded-postgres.ts under the Supervisor).
 * Env: ALERTBUS_PG_DATA (data folder), ALERTBUS_PG_PORT, ALERTBUS_PG_PASSWORD (the superuser's, set at
 * initdb). Initialises the folder on first start (into a temp folder renamed into place, so an interrupted
 * initdb leaves nothing half-made), serves on 127.0.0.1 only, and stops the server on SIGTERM/SIGINT, when
 * its parent goes away (end of stdin), or when this process is killed (a watchdog). A server a killed predecessor
 * left running on the folder is stopped before this one starts, so the Supervisor's restart can take over. The server's own log goes to `<data folder>.log`; this process prints
 * only what a person starting alertbus needs, and the log's last lines when something fails.
 */
import { createWriteStream, existsSync, promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A process's command line and parent (Linux /proc), or undefined when it cannot be read. */
function processInfo(pid: number): { cmdline: string; ppid: number } | undefined {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { cmdline, ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
  } catch {
    return undefined;
  }
}

/**
 * The server of `dataDir` that a killed predecessor of this process left running (its postmaster.pid names a live
 * postgres of that folder whose parent is no embedded-postgres-main): stopped (fast shutdown), because it holds the
 * port and the folder and no one would ever stop it. A server another live alertbus runs is left alone.
 */
async function stopOrphanedServer(dataDir: string): Promise<void> {
  const pid = Number((await fsp.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const server = processInfo(pid);
  if (!server || !server.cmdline.includes(dataDir)) return;
  if (processInfo(server.ppid)?.cmdline.includes('embedded-postgres-main')) return;
  process.stdout.write(`stopping the server (pid ${pid}) a killed predecessor left running on ${dataDir}\n`);
  process.kill(pid, 'SIGINT');
  for (let waited = 0; alive(pid); waited += 200) {
    if (waited >= 30_000) process.kill(pid, 'SIGKILL');
    await sleep(200);
  }
}

/** Fast-shuts the server down if this process dies without doing it (kill -9): `read` returns when this process is gone. */
function watchdog(serverPid: number): ChildProcess | undefined {
  try {
    const dog = spawn('sh', ['-c', 'read -r _; kill -INT "$1" 2>/dev/null', 'alertbus-postgres-watchdog', String(serverPid)], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    dog.on('error', () => undefined);
    dog.stdin!.on('error', () => undefined);
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void }).unref?.();
    return dog;
  } catch {
    return undefined;
  }
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

  await stopOrphanedServer(dataDir);
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
  const dog = child?.pid ? watchdog(child.pid) : undefined;
  child?.once('exit', (code, signal) => {
    dog?.kill('SIGKILL');
    if (!stopping) fail(`the server exited (${signal ?? `exit code ${code}`}; log: ${logFile}):\n${recent.slice(-8).join('\n')}`);
  });
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    dog?.kill('SIGKILL');
    process.exit(code);
  };
  // embedded-postgres stops its servers on SIGINT/SIGTERM itself; end of stdin means the parent is gone.
  process.stdin.on('end', () => void stop(0));
  process.stdin.on('error', () => void stop(0));
  process.stdin.resume();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (stopping = true));
}

main().catch((err: unknown) => fail((err as Error)?.stack ?? String(err)));
