/**
 * alertbus's processes and their supervision, in one place: the table of services (and the API stand-ins)
 * with their entry points and ports, and a Supervisor that starts child processes, says "ready" only when
 * every one answers its readiness check, reports the first one that exits with the last lines of its log,
 * and stops them all in reverse order.
 *
 *   const sup = new Supervisor({ output: (name, line) => console.log(`[${name}] ${line}`) });
 *   await sup.start(SERVICES.map((s) => serviceProcess(s, { root, env, port: portOf(s, env) })));
 *   sup.onFailure((err) => { console.error(err.message); void sup.stop(); });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

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
}

/** The five services, in the order they are started (ingest last: it accepts work only when the rest is there). */
export const SERVICES: readonly ServiceDef[] = [
  { name: 'history', dir: 'services/history', main: 'main', portVar: 'HISTORY_PORT', defaultPort: 8081, readyPath: '/readyz' },
  { name: 'router', dir: 'services/router', main: 'main', portVar: 'ROUTER_PORT', defaultPort: 8082, readyPath: '/readyz' },
  { name: 'slack-sink', dir: 'services/slack-sink', main: 'main', portVar: 'SLACK_SINK_PORT', defaultPort: 8083, readyPath: '/readyz' },
  { name: 'opsgenie-sink', dir: 'services/opsgenie-sink', main: 'main', portVar: 'OPSGENIE_SINK_PORT', defaultPort: 8084, readyPath: '/readyz' },
  { name: 'ingest', dir: 'services/ingest', main: 'main', portVar: 'INGEST_PORT', defaultPort: 8080, readyPath: '/readyz' },
];

/** Local stand-ins of the Slack Web API and the Opsgenie Alert API (`npm start -- --stand-ins`). */
export const STAND_INS: readonly ServiceDef[] = [
  { name: 'slack-stand-in', dir: 'packages/stand-ins', main: 'slack/main', portVar: 'SLACK_STAND_IN_PORT', defaultPort: 8090, readyPath: '/_stand-in/messages' },
  { name: 'opsgenie-stand-in', dir: 'packages/stand-ins', main: 'opsgenie/main', portVar: 'OPSGENIE_STAND_IN_PORT', defaultPort: 8091, readyPath: '/_stand-in/alerts' },
];

/** `source`: TypeScript run by tsx (a checkout). `dist`: compiled JavaScript run by plain node (the image). */
export type Runtime = 'source' | 'dist';

/** Node's arguments for a service's entry point. Compiled code resolves workspace packages to their dist/. */
export function entryArgs(def: ServiceDef, root: string, runtime: Runtime = 'source'): string[] {
  return runtime === 'source'
    ? ['--import', 'tsx', join(root, def.dir, 'src', `${def.main}.ts`)]
    : ['--conditions=production', join(root, def.dir, 'dist', `${def.main}.js`)];
}

/** The port a service listens on under `env` (its variable, else its default). */
export function portOf(def: ServiceDef, env: NodeJS.ProcessEnv): number {
  const raw = env[def.portVar];
  return raw ? Number(raw) : def.defaultPort;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A child process to supervise. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Polled until it resolves true. */
  ready: () => Promise<boolean>;
}

/** True when GET `url` answers 2xx. */
export async function httpReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
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
    env: { ...o.env, [def.portVar]: String(o.port) },
    cwd: o.root,
    ready: () => httpReady(`http://127.0.0.1:${o.port}${def.readyPath}`),
  };
}

/** A supervised process ended on its own (during start-up or later). */
export class ProcessExitedError extends Error {
  constructor(
    readonly process: string,
    /** `exit code 1`, `signal SIGKILL`, or `could not start: …`. */
    readonly how: string,
    readonly logTail: readonly string[],
    during: 'start-up' | 'run',
  ) {
    const tail = logTail.length ? `; its log ends:\n${logTail.map((l) => `  ${l}`).join('\n')}` : ' (it wrote nothing)';
    super(`${process} exited ${during === 'start-up' ? 'during start-up' : 'unexpectedly'} (${how})${tail}`);
    this.name = 'ProcessExitedError';
  }
}

export class NotReadyError extends Error {
  constructor(
    readonly process: string,
    timeoutMs: number,
    logTail: readonly string[],
  ) {
    super(`${process} did not become ready within ${timeoutMs / 1000} s; its log ends:\n${logTail.map((l) => `  ${l}`).join('\n')}`);
    this.name = 'NotReadyError';
  }
}

export interface SupervisorOptions {
  /** Each line a child writes, as it comes. */
  output?: (name: string, line: string, stream: 'stdout' | 'stderr') => void;
  /** Lines kept per child for failure reports (default 40). */
  keepLines?: number;
  /** Lines shown when a child fails (default 20). */
  reportLines?: number;
  /** How long stop() waits after SIGTERM before SIGKILL (default 15 s). */
  stopGraceMs?: number;
  /** How long start() waits for readiness (default 120 s). */
  readyTimeoutMs?: number;
  /** Aborting it makes a pending start() reject with the signal's reason (call stop() to clean up). */
  signal?: AbortSignal;
}

interface Child {
  spec: ProcessSpec;
  proc: ChildProcess;
  lines: string[];
  exited: Promise<void>;
  done: boolean;
}

/**
 * An exit is reported only if nothing asked to stop within this long: a Ctrl-C in a terminal reaches the
 * children too, and one of them may die of it a moment before this process handles its own SIGINT.
 */
const EXIT_REPORT_DELAY_MS = 300;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Supervisor {
  private readonly children: Child[] = [];
  private stopping: Promise<void> | undefined;
  private readonly stopRequested = new AbortController();
  private failure: ProcessExitedError | undefined;
  private inStartUp = 0;
  private readonly failureListeners = new Set<(err: ProcessExitedError) => void>();

  constructor(private readonly opts: SupervisorOptions = {}) {}

  /** Process ids of the children still running. */
  pids(): number[] {
    return this.children.filter((c) => !c.done && c.proc.pid).map((c) => c.proc.pid!);
  }

  /** The last lines a child wrote. */
  tail(name: string, lines = this.opts.reportLines ?? 20): string[] {
    return this.children.find((c) => c.spec.name === name)?.lines.slice(-lines) ?? [];
  }

  /** Called once, with the first child that exits while nothing asked to stop. */
  onFailure(listener: (err: ProcessExitedError) => void): void {
    if (this.failure) listener(this.failure);
    else this.failureListeners.add(listener);
  }

  /**
   * Spawns every spec at once and resolves when each is ready. Rejects with ProcessExitedError as soon as
   * any supervised child (from this call or an earlier one) exits, with NotReadyError on timeout, or with the
   * abort signal's reason. Children already started keep running: call stop().
   */
  async start(specs: readonly ProcessSpec[]): Promise<void> {
    if (this.stopping) throw new Error('supervisor is stopping');
    this.inStartUp++;
    try {
      const started = specs.map((s) => this.spawn(s));
      const failed = new Promise<never>((_, reject) => this.onFailure(reject));
      failed.catch(() => undefined);
      const aborted = new Promise<never>((_, reject) => {
        for (const signal of [this.opts.signal, this.stopRequested.signal]) {
          if (!signal) continue;
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }
      });
      aborted.catch(() => undefined);
      await Promise.race([Promise.all(started.map((c) => this.waitReady(c))), failed, aborted]);
      if (this.failure) throw this.failure;
    } finally {
      this.inStartUp--;
    }
  }

  /** SIGTERM to every child still running, newest first, each given stopGraceMs before SIGKILL. Idempotent. */
  stop(): Promise<void> {
    this.stopRequested.abort(new Error('stopped before every process was ready'));
    this.stopping ??= (async () => {
      const grace = this.opts.stopGraceMs ?? 15_000;
      for (const child of [...this.children].reverse()) {
        if (child.done) continue;
        const timer = setTimeout(() => child.proc.kill('SIGKILL'), grace);
        child.proc.kill('SIGTERM');
        await child.exited;
        clearTimeout(timer);
      }
    })();
    return this.stopping;
  }

  private spawn(spec: ProcessSpec): Child {
    const proc = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      // stdin is a pipe nobody writes to: a child may take its end-of-file as "the supervisor is gone".
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    proc.stdin!.on('error', () => undefined);
    const keep = this.opts.keepLines ?? 40;
    const child: Child = { spec, proc, lines: [], exited: Promise.resolve(), done: false };
    const collect = (stream: NodeJS.ReadableStream | null, kind: 'stdout' | 'stderr') => {
      let buf = '';
      const flush = (line: string) => {
        child.lines.push(line);
        if (child.lines.length > keep) child.lines.splice(0, child.lines.length - keep);
        this.opts.output?.(spec.name, line, kind);
      };
      stream?.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          flush(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
      stream?.on('end', () => {
        if (buf) flush(buf);
        buf = '';
      });
    };
    collect(proc.stdout, 'stdout');
    collect(proc.stderr, 'stderr');
    child.exited = new Promise<void>((resolve) => {
      let how: string | undefined;
      const finish = () => {
        if (child.done) return;
        child.done = true;
        resolve();
        const during = this.inStartUp > 0 ? 'start-up' : 'run';
        // Let the output still in the pipes arrive, and a concurrent stop() claim the exit, before reporting.
        setTimeout(() => {
          if (this.stopping || this.failure) return;
          this.failure = new ProcessExitedError(spec.name, how ?? 'unknown', child.lines.slice(-(this.opts.reportLines ?? 20)), during);
          for (const l of this.failureListeners) l(this.failure);
          this.failureListeners.clear();
        }, EXIT_REPORT_DELAY_MS);
      };
      proc.once('error', (e) => {
        how = `could not start: ${e.message}`;
        finish();
      });
      proc.once('exit', (code, signal) => {
        how ??= signal ? `signal ${signal}` : `exit code ${code}`;
        finish();
      });
    });
    this.children.push(child);
    return child;
  }

  private async waitReady(child: Child): Promise<void> {
    const timeoutMs = this.opts.readyTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    while (!child.done && !this.stopping && !this.opts.signal?.aborted) {
      if (await child.spec.ready()) return;
      if (Date.now() > deadline) throw new NotReadyError(child.spec.name, timeoutMs, this.tail(child.spec.name));
      await sleep(250);
    }
    // Exited, stopped or aborted: start() rejects through the failure or abort race; never resolve here.
    await new Promise<never>(() => undefined);
  }
}
