/**
 * The supervision of alertbus's processes: a Supervisor starts child processes, says "ready" only when
 * every one answers its readiness check, reports the first one that exits with the last lines of its log,
 * and stops them all in reverse order. What the processes are is in ./services.ts.
 *
 *   const sup = new Supervisor({ output: (name, line) => console.log(`[${name}] ${line}`) });
 *   await sup.start(SERVICES.map((s) => serviceProcess(s, { root, env, port: portOf(s, env) })));
 *   sup.onFailure((err) => { console.error(err.message); void sup.stop(); });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { reniceProcess } from './priority';

/** A child process to supervise. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Runs this much nicer than the supervisor's own process (0 to 19; default 0): see ./priority.ts. */
  nice?: number;
  /** Polled until it resolves true; given the process's id (to tell its answer from another process's). */
  ready: (pid: number | undefined) => Promise<boolean>;
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
  /** Resolves once its stdout and stderr are closed too: every line it wrote has been seen. */
  closed: Promise<void>;
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

  /** How the newest child of that name ended: its exit code, null while running or when a signal ended it. */
  exitCode(name: string): number | null {
    return this.children.filter((c) => c.spec.name === name).at(-1)?.proc.exitCode ?? null;
  }

  /** Resolves once every child's output pipes are closed (after stop(): its last lines were passed on). */
  async drained(): Promise<void> {
    await Promise.all(this.children.map((c) => c.closed));
  }

  /**
   * `signal` (default SIGTERM) to every child still running, newest first, each given stopGraceMs before
   * SIGKILL. Idempotent: a second call returns the first one's promise.
   */
  stop(o: { signal?: NodeJS.Signals } = {}): Promise<void> {
    this.stopRequested.abort(new Error('stopped before every process was ready'));
    this.stopping ??= (async () => {
      const grace = this.opts.stopGraceMs ?? 15_000;
      for (const child of [...this.children].reverse()) {
        if (child.done) continue;
        const timer = setTimeout(() => child.proc.kill('SIGKILL'), grace);
        child.proc.kill(o.signal ?? 'SIGTERM');
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
    if (spec.nice && proc.pid !== undefined) reniceProcess(proc.pid, spec.nice);
    const keep = this.opts.keepLines ?? 40;
    const child: Child = { spec, proc, lines: [], exited: Promise.resolve(), closed: Promise.resolve(), done: false };
    child.closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
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
      if (await child.spec.ready(child.proc.pid)) {
        // Threads its runtime started before the spawn-time renice reached it are set now; later ones inherit.
        if (child.spec.nice && child.proc.pid !== undefined) reniceProcess(child.proc.pid, child.spec.nice);
        return;
      }
      if (Date.now() > deadline) throw new NotReadyError(child.spec.name, timeoutMs, this.tail(child.spec.name));
      await sleep(250);
    }
    // Exited, stopped or aborted: start() rejects through the failure or abort race; never resolve here.
    await new Promise<never>(() => undefined);
  }
}
