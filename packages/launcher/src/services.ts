/**
 * The one table of alertbus's processes: the five services and the two API stand-ins, with their entry
 * points, ports and readiness paths, and how to turn one into a ProcessSpec for the Supervisor. `npm start`,
 * the test stack and the bench all start services from here; their differences (ports, environment,
 * stand-ins or not) are arguments.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_NICE, parseNice } from './priority';
import { ProcessExitedError, Supervisor, type ProcessSpec, type SupervisorOptions } from './supervisor';

export interface ServiceDef {
  name: string;
  /** Workspace folder, relative to the repository root. */
  dir: string;
  /** Entry point, relative to the workspace's `src/` (TypeScript) or `dist/` (compiled), without extension. */
  main: string;
  portVar: string;
  defaultPort: number;
  /** Answers 2xx once the process can do its work. */
  readyPath: string;
  /** Node's options for its process, before the entry point: what V8 reads only at start. */
  nodeArgs?: readonly string[];
  /** Its process's environment where the caller's does not set the variable: what glibc reads only at start. */
  env?: Readonly<Record<string, string>>;
}

/**
 * The router's process holds every open incident's state in a few large typed arrays and buffers (hundreds of MB
 * with a million open) that grow by copying and shrink after mass evictions. glibc's malloc, left to itself, raises
 * its mmap threshold to the largest block freed (up to 32 MB), after which those arrays live in its main heap, whose
 * freed middle stays resident; a fixed threshold keeps each one of 128 KiB or more in a mapping of its own, handed
 * back when freed, and two arenas keep the other threads' from multiplying (bench/README.md, "Seventh run — router
 * memory"). V8's young generation is capped at 8 MB a semi-space (16 by default): with the states off the heap it
 * was the largest part of the V8 heap's RSS at 16; at 4, a batch's records and decisions, alive until its transaction
 * commits, outlived two scavenges and were promoted to die in the old space (in the latency runs, twice the scavenges
 * of 8 and two fifths more promoted: bench/README.md, "Tenth run — router memory").
 */
const ROUTER_PROCESS = {
  nodeArgs: ['--max-semi-space-size=8'],
  env: { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' },
} as const;

/**
 * The sinks hold little (their in-flight commands, a fetched batch) but allocate much per command (a pager call
 * through opsgenie-sdk, `request` and lodash about 190 KB), most of it alive across the call and its request-status
 * wait and so promoted: left to size the heap by itself, V8 let the old generation fill with that garbage to 100–165 MB
 * before a full collection, and the pager sink ended a 300/s run at 200–250 MB RSS. A 256 MB old space (several times
 * their live heap of about 40 MB) makes V8 size the heap for a small process and collect sooner (bench/README.md,
 * "Eighth run — sinks").
 */
const SINK_PROCESS = { nodeArgs: ['--max-old-space-size=256'] } as const;

/**
 * Ingest holds little between requests (a produce batch in flight) but allocates much per request (the body, its
 * parsing, the records), and left to itself idled at 147–163 MB (V8's young generation 34 MB at 16 MB semi-spaces)
 * and let its old space grow to 40–90 MB between full collections: 165–223 MB at its peak over a 20,000-alert storm.
 * With semi-spaces of 8 MB and a 256 MB old space (several times its live heap) it idled at 128–129 MB and peaked at
 * 150–152 MB; 8 MB semi-spaces alone still let the old space reach 84 MB (peak 232 MB). Its intake rates stayed in
 * the old spread; its CPU per 1000 alerts by itself was 205–259 ms against 143–274 ms, some 14 % more on average
 * that five pairs did not separate from the load's noise (bench/README.md, "Fourteenth run — ingest memory").
 */
const INGEST_PROCESS = { nodeArgs: ['--max-semi-space-size=8', '--max-old-space-size=256'] } as const;

/** The five services, in the order they are started (ingest last: it accepts work only when the rest is there). */
export const SERVICES: readonly ServiceDef[] = [
  { name: 'history', dir: 'services/history', main: 'main', portVar: 'HISTORY_PORT', defaultPort: 8081, readyPath: '/readyz' },
  { name: 'router', dir: 'services/router', main: 'main', portVar: 'ROUTER_PORT', defaultPort: 8082, readyPath: '/readyz', ...ROUTER_PROCESS },
  { name: 'slack-sink', dir: 'services/slack-sink', main: 'main', portVar: 'SLACK_SINK_PORT', defaultPort: 8083, readyPath: '/readyz', ...SINK_PROCESS },
  { name: 'opsgenie-sink', dir: 'services/opsgenie-sink', main: 'main', portVar: 'OPSGENIE_SINK_PORT', defaultPort: 8084, readyPath: '/readyz', ...SINK_PROCESS },
  { name: 'ingest', dir: 'services/ingest', main: 'main', portVar: 'INGEST_PORT', defaultPort: 8080, readyPath: '/readyz', ...INGEST_PROCESS },
];

export type ServiceName = 'history' | 'router' | 'slack-sink' | 'opsgenie-sink' | 'ingest';

/** True for the name of one of the five services (what `alertbus serve` and `--scale` accept). */
export function isServiceName(name: string): name is ServiceName {
  return SERVICES.some((s) => s.name === name);
}

/**
 * Each service's niceness above the launcher's own under `env` (`ALERTBUS_NICE`, else DEFAULT_NICE); a service
 * not named runs at the launcher's. Throws NiceError on a malformed value.
 */
export function nicenessTable(env: NodeJS.ProcessEnv): Map<string, number> {
  return parseNice(env.ALERTBUS_NICE || DEFAULT_NICE, SERVICES.map((s) => s.name));
}

/** The niceness a process of that name runs at under `env`: 0 for a name not in the table (the stand-ins). */
export function niceOf(name: string, env: NodeJS.ProcessEnv): number {
  return nicenessTable(env).get(name) ?? 0;
}

/** A service's row of the table. */
export function serviceDef(name: ServiceName): ServiceDef {
  const def = SERVICES.find((s) => s.name === name);
  if (!def) throw new Error(`no service called ${name}`);
  return def;
}

/** Local stand-ins of the Slack Web API and the Opsgenie Alert API (`npm start -- --stand-ins`). */
export const STAND_INS: readonly ServiceDef[] = [
  { name: 'slack-stand-in', dir: 'packages/stand-ins', main: 'slack/main', portVar: 'SLACK_STAND_IN_PORT', defaultPort: 8090, readyPath: '/_stand-in/messages' },
  { name: 'opsgenie-stand-in', dir: 'packages/stand-ins', main: 'opsgenie/main', portVar: 'OPSGENIE_STAND_IN_PORT', defaultPort: 8091, readyPath: '/_stand-in/alerts' },
];

/** `source`: TypeScript run by tsx (a checkout). `dist`: compiled JavaScript run by plain node (the image). */
export type Runtime = 'source' | 'dist';

/** The checkout (or image tree) this launcher belongs to: it lives in packages/launcher/src/ or dist/. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

/**
 * How this process runs alertbus's code: `dist` when the workspace packages resolved to their compiled
 * dist/ (Node's `production` condition, as in the image), else `source` (TypeScript through tsx).
 */
export function currentRuntime(): Runtime {
  return __filename.endsWith('.ts') ? 'source' : 'dist';
}

/** The file a service's entry point is: its TypeScript under src/, or the compiled JavaScript under dist/. */
export function entryFile(def: ServiceDef, root: string, runtime: Runtime = 'source'): string {
  return runtime === 'source' ? join(root, def.dir, 'src', `${def.main}.ts`) : join(root, def.dir, 'dist', `${def.main}.js`);
}

/** Node's arguments for a service's entry point. Compiled code resolves workspace packages to their dist/. */
export function entryArgs(def: ServiceDef, root: string, runtime: Runtime = 'source'): string[] {
  const own = def.nodeArgs ?? [];
  return runtime === 'source' ? [...own, '--import', 'tsx', entryFile(def, root, runtime)] : [...own, '--conditions=production', entryFile(def, root, runtime)];
}

/**
 * Runs a service inside this process, exactly as `node <its entry point>` would: the entry point starts the
 * service, installs its SIGTERM/SIGINT handling and exits with the service's code. The entry is loaded by
 * path at run time, so nothing that calls this imports a service. From `source`, TypeScript must be loadable
 * (tsx registered, as `alertbus`'s bin does in a checkout).
 */
export function runServiceInProcess(def: ServiceDef, o: { root?: string; runtime?: Runtime } = {}): void {
  const runtime = o.runtime ?? currentRuntime();
  require(entryFile(def, o.root ?? REPO_ROOT, runtime));
}

/**
 * The port a service listens on under `env` (its variable, else its default). A value that is no port is refused naming
 * the variable: read with Number(), `18o81` became NaN and another service was told `http://127.0.0.1:NaN`, and `0` (any
 * free port, for a service run alone) left the start waiting for a service on port 0.
 */
export function portOf(def: ServiceDef, env: NodeJS.ProcessEnv): number {
  const raw = env[def.portVar];
  if (!raw) return def.defaultPort;
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(port >= 1 && port <= 65_535)) {
    throw new Error(`${def.portVar} must be a port from 1 to 65535 (npm start waits for each service on its port), got ${JSON.stringify(raw)}`);
  }
  return port;
}

/** Ports freePort has handed out in this process: two services started at once must not be given the same one. */
const handedOut = new Set<number>();
const HANDED_OUT_KEPT = 4_096;

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, and that this process has not handed out before
 * (the kernel may give a port closed a moment ago to the next caller). Another process may take it before the
 * caller binds it: startService picks again when that happens.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address() as { port: number };
        srv.close(() => resolve(p));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (handedOut.size > HANDED_OUT_KEPT) handedOut.delete(handedOut.values().next().value!);
    return port;
  }
}

/** The header an alertbus service's /healthz and /readyz carry with its process id (PID_HEADER in @alertbus/common). */
const PID_HEADER = 'x-alertbus-pid';

/**
 * True when GET `url` answers 2xx. With `pid`, an answer that names another process (PID_HEADER) is not taken:
 * the port was given to the process `pid`, and another service that holds it answers for itself.
 */
export async function httpReady(url: string, pid?: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    const from = res.headers.get(PID_HEADER);
    if (pid !== undefined && from !== null && from !== String(pid)) return false;
    return res.ok;
  } catch {
    return false;
  }
}

/** A service (or stand-in) as a child process listening on `port`, ready when its readiness path answers 2xx. */
export function serviceProcess(
  def: ServiceDef,
  o: { root: string; env: NodeJS.ProcessEnv; port: number; runtime?: Runtime },
): ProcessSpec {
  return {
    name: def.name,
    command: process.execPath,
    args: entryArgs(def, o.root, o.runtime),
    env: { ...def.env, ...o.env, [def.portVar]: String(o.port) },
    cwd: o.root,
    nice: niceOf(def.name, o.env),
    ready: (pid) => httpReady(`http://127.0.0.1:${o.port}${def.readyPath}`, pid),
  };
}


/** A process that exited during start-up because another process took its port first. */
export function lostPortRace(err: unknown): boolean {
  return err instanceof ProcessExitedError && err.logTail.some((l) => /EADDRINUSE|address already in use/i.test(l));
}

export interface StartServiceOptions {
  root: string;
  /** The whole environment of the process (its port variable is added). */
  env: NodeJS.ProcessEnv;
  /** Listen here; default a free port, picked again (up to 3 tries) when another process takes it first. */
  port?: number;
  runtime?: Runtime;
  /** Options of the Supervisor the process runs under (output, readiness timeout, stop grace). */
  supervisor?: SupervisorOptions;
}

/**
 * Starts one service (or stand-in, or any ServiceDef) under a Supervisor of its own and resolves once it is
 * ready, so it can be stopped, killed and started again on its own. On failure nothing is left running.
 */
export async function startService(def: ServiceDef, o: StartServiceOptions): Promise<{ supervisor: Supervisor; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = o.port ?? (await freePort());
    const supervisor = new Supervisor(o.supervisor);
    try {
      await supervisor.start([serviceProcess(def, { root: o.root, env: o.env, port, runtime: o.runtime })]);
      return { supervisor, port };
    } catch (err) {
      await supervisor.stop();
      if (o.port === undefined && attempt < 3 && lostPortRace(err)) continue;
      throw err;
    }
  }
}
