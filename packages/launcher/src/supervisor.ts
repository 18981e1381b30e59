/**
 * The supervision of alertbus's processes: a Supervisor starts child processes, says "ready" only when
 * every one answers its readiness check, reports the first one that exits with the last lines of its log,
 * and stops them all in reverse order; once told to (restartCrashed), it starts a child that crashes after
 * start-up again, with a back-off, instead. What the processes are is in ./services.ts.
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

/**
 * How a crashed child is started again (Supervisor.restartCrashed): after `initialMs`, doubled with every crash
 * that follows soon after the last start, up to `maxMs`; a child that ran `stableMs` before crashing starts over.
 */
export interface RestartPolicy {
  initialMs?: number;
  maxMs?: number;
  stableMs?: number;
  /** A child crashed and will be started again in `delayMs` (its `attempt`-th restart in a row). */
  onCrash?: (e: { name: string; how: string; attempt: number; delayMs: number; logTail: readonly string[] }) => void;
  /** A restarted child answers its readiness check again. */
  onBack?: (e: { name: string; pid: number | undefined; attempt: number }) => void;
}

export const RESTART_INITIAL_MS = 1_000;
export const RESTART_MAX_MS = 30_000;
export const RESTART_STABLE_MS = 60_000;

/** The wait before the `attempt`-th restart in a row (1-based): initialMs doubled each time, capped at maxMs. */
export function restartDelay(attempt: number, o: { initialMs?: number; maxMs?: number } = {}): number {
  const initial = o.initialMs ?? RESTART_INITIAL_MS;
  const max = o.maxMs ?? RESTART_MAX_MS;
  // Capped before doubling so a child that crashes for days does not overflow to Infinity.
  const doublings = Math.min(Math.max(attempt, 1) - 1, 31);
  return Math.min(initial * 2 ** doublings, max);
}

interface Child {
  spec: ProcessSpec;
  /** Restarts in a row that led to this one (0: started by start()). */
  attempt: number;
  startedAt: number;
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
  private restart: RestartPolicy | undefined;
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: SupervisorOptions = {}) {}

  /** Process ids of the children still running. */
  pids(): number[] {
    return this.children.filter((c) => !c.done && c.proc.pid).map((c) => c.proc.pid!);
  }

  /** The last lines a child wrote. */
  tail(name: string, lines = this.opts.reportLines ?? 20): string[] {
    return this.children.filter((c) => c.spec.name === name).at(-1)?.lines.slice(-lines) ?? [];
  }

  /**
   * From now on a child that exits while no start() is pending and nothing asked to stop is started again
   * after a back-off (restartDelay) instead of being reported to onFailure: alertbus's services are safe to
   * restart at any point (transactions, ledgers). An exit during a start() still fails that start().
   */
  restartCrashed(policy: RestartPolicy = {}): void {
    this.restart = policy;
  }

  /** Called once, with the first child that exits while nothing asked to stop (and restartCrashed does not restart it). */
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
      for (const t of this.restartTimers) clearTimeout(t);
      this.restartTimers.clear();
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

  /** `replaces`: the crashed child this one takes the place of, so stop() still ends it after what was started later. */
  private spawn(spec: ProcessSpec, attempt = 0, replaces?: Child): Child {
    const proc = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      // stdin is a pipe nobody writes to: a child may take its end-of-file as "the supervisor is gone".
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    proc.stdin!.on('error', () => undefined);
    if (spec.nice && proc.pid !== undefined) reniceProcess(proc.pid, spec.nice);
    const keep = this.opts.keepLines ?? 40;
    const child: Child = { spec, attempt, startedAt: Date.now(), proc, lines: [], exited: Promise.resolve(), closed: Promise.resolve(), done: false };
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
          if (this.restart && during === 'run') return this.restartLater(child, how ?? 'unknown');
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
    const at = replaces ? this.children.indexOf(replaces) : -1;
    if (at >= 0) this.children[at] = child;
    else this.children.push(child);
    return child;
  }

  private restartLater(old: Child, how: string): void {
    const policy = this.restart!;
    const attempt = Date.now() - old.startedAt >= (policy.stableMs ?? RESTART_STABLE_MS) ? 1 : old.attempt + 1;
    const delayMs = restartDelay(attempt, policy);
    policy.onCrash?.({ name: old.spec.name, how, attempt, delayMs, logTail: old.lines.slice(-(this.opts.reportLines ?? 20)) });
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.stopping) return;
      const child = this.spawn(old.spec, attempt, old);
      void this.waitBack(child, policy);
    }, delayMs);
    this.restartTimers.add(timer);
  }

  /** Tells onBack once a restarted child is ready; one that exits first is restarted again by its exit. */
  private async waitBack(child: Child, policy: RestartPolicy): Promise<void> {
    while (!child.done && !this.stopping) {
      if (await child.spec.ready(child.proc.pid)) {
        if (child.spec.nice && child.proc.pid !== undefined) reniceProcess(child.proc.pid, child.spec.nice);
        if (!child.done && !this.stopping) policy.onBack?.({ name: child.spec.name, pid: child.proc.pid, attempt: child.attempt });
        return;
      }
      await sleep(250);
    }
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
