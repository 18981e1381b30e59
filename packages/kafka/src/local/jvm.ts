/**
 * Runs the broker JVM: formats its storage, starts it, waits until it serves clients, and ties its life
 * to this process (an 'exit' handler and a watchdog SIGKILL it when this process goes away).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { LocalBroker } from './broker';
import { existingClusterId, jvmArgs, randomClusterId, serverProperties } from './configure';
import { run } from './run';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const TAIL_CHARS = 8_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * SIGKILLs the given pid when this process goes away without running its exit handlers, then removes
 * `removeDir` (if given) once the pid is gone. Killed by us in stop(), before it can do either.
 */
function spawnWatchdog(pid: number, removeDir?: string): ChildProcess | undefined {
  // `read` blocks on a pipe nobody writes to; it returns at EOF, i.e. when this process is gone.
  const script = [
    'read -r _',
    'kill -KILL "$1" 2>/dev/null',
    '[ -n "$2" ] || exit 0',
    // Wait until it has exited (a zombie counts: its files are closed), at most 10 s.
    'n=0; while [ $n -lt 100 ] && [ -r "/proc/$1/status" ] && ! grep -q "^State:[[:space:]]*Z" "/proc/$1/status" 2>/dev/null; do sleep 0.1; n=$((n+1)); done',
    'rm -rf -- "$2"',
  ].join('\n');
  try {
    const dog = spawn('sh', ['-c', script, 'alertbus-kafka-watchdog', String(pid), removeDir ?? ''], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    dog.on('error', () => {});
    dog.stdin!.on('error', () => {});
    dog.unref();
    (dog.stdin as unknown as { unref?: () => void }).unref?.();
    return dog;
  } catch {
    return undefined;
  }
}

/** Asks the broker for its cluster description; resolves when that works. */
async function probe(brokers: string[], clusterId: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'alertbus-local-broker-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { brokers: live, clusterId: answered } = await admin.describeCluster();
    if (live.length === 0) throw new Error('no live brokers yet');
    // Ports are picked free, then bound: another broker can take ours in between, and would answer this probe.
    if (answered !== clusterId) throw new Error(`another Kafka (cluster ${answered}) answers on ${brokers.join(',')}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The broker's output with stack frames dropped, last lines only: enough to see why it died. */
function outputSummary(output: string, lines = 30): string {
  return output
    .split('\n')
    .filter((l) => !/^\s+(at |\.\.\. \d+ more)/.test(l))
    .slice(-lines)
    .join('\n')
    .trim();
}

export class BrokerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse = false,
  ) {
    super(message);
  }
}

export interface LaunchOptions {
  home: string;
  lib: string;
  dataDir: string;
  port: number;
  controllerPort: number;
  /** Folder the watchdog removes if this process dies without stopping the broker. */
  removeOnOrphan?: string;
  log: (m: string) => void;
  signal?: AbortSignal;
  /** Runs after the broker has exited, inside stop(). */
  afterStop: () => Promise<void>;
}

/** Formats storage, starts the JVM and waits until it serves clients. On failure nothing is left running. */
export async function launch(o: LaunchOptions): Promise<LocalBroker> {
  const propsPath = path.join(o.dataDir, 'server.properties');
  const logDir = path.join(o.dataDir, 'logs');
  await fsp.writeFile(propsPath, serverProperties({ port: o.port, controllerPort: o.controllerPort, logDir }));
  const cp = path.join(o.lib, '*'); // the JVM expands the wildcard itself
  // --ignore-formatted still checks the id: formatting a used log dir with a new id fails
  // ("Invalid cluster.id ... Expected X, but read Y"), so a reused data dir keeps its own id.
  const clusterId = (await existingClusterId(logDir)) ?? randomClusterId();
  await run(
    'java',
    [...jvmArgs(o.home), '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsPath, '--ignore-formatted'],
    o.dataDir,
  );

  const brokers = [`127.0.0.1:${o.port}`];
  const proc = spawn('java', [...jvmArgs(o.home), '-cp', cp, 'kafka.Kafka', propsPath], {
    cwd: o.dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const echo = !!process.env.ALERTBUS_KAFKA_DEBUG; // set it to see the broker's own log lines
  const keep = (b: Buffer) => {
    tail = (tail + b.toString('utf8')).slice(-TAIL_CHARS);
    if (echo) process.stderr.write(b);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  // Do not keep the event loop alive just for the broker: the exit handler kills it when we go.
  proc.unref();
  for (const s of [proc.stdout, proc.stderr]) (s as unknown as { unref?: () => void }).unref?.();

  let exitInfo: string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    });
    proc.once('error', (e) => {
      spawnError = e;
      exitInfo ??= `spawn error: ${e.message}`;
      resolve();
    });
  });
  const pid = proc.pid ?? -1;

  // Tie the broker's life to ours: a synchronous kill on 'exit', and a watchdog for deaths without it.
  const killNow = () => {
    try {
      if (exitInfo === undefined) proc.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  };
  process.on('exit', killNow);
  const watchdog = pid > 0 ? spawnWatchdog(pid, o.removeOnOrphan) : undefined;
  const releaseTies = () => {
    process.removeListener('exit', killNow);
    try {
      watchdog?.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  };
  void exited.then(releaseTies);

  const waitForExit = async (): Promise<void> => {
    if (exitInfo !== undefined) return;
    try {
      proc.kill('SIGTERM');
    } catch {
      /* already gone */
    }
    // The child and its pipes are unref'd: this (ref'd) timer keeps the event loop alive until it exits.
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), STOP_GRACE_MS)));
    const outcome = await Promise.race([exited.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      o.log(`Kafka broker pid ${pid} ignored SIGTERM for ${STOP_GRACE_MS / 1000} s; killing it`);
      killNow();
      const keepAlive = setInterval(() => {}, 1_000);
      await exited;
      clearInterval(keepAlive);
    }
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = '';
  for (;;) {
    if (exitInfo !== undefined) {
      releaseTies();
      if (spawnError) throw new BrokerStartError(`cannot start java: ${spawnError.message}`);
      throw new BrokerStartError(
        `Kafka broker exited before it was ready (${exitInfo}); its output ends:\n${outputSummary(tail)}`,
        /Address already in use/.test(tail),
      );
    }
    if (o.signal?.aborted) {
      await waitForExit();
      releaseTies();
      throw o.signal.reason;
    }
    try {
      await probe(brokers, clusterId);
      break;
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() > deadline) {
      await waitForExit();
      releaseTies();
      throw new BrokerStartError(
        `Kafka broker not ready after ${READY_TIMEOUT_MS / 1000} s (last error: ${lastError}); its output ends:\n${outputSummary(tail)}`,
      );
    }
    await sleep(200);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (exitInfo === undefined) o.log(`stopping Kafka broker pid ${pid}`);
      await waitForExit();
      releaseTies();
      await o.afterStop();
    })());
  return { brokers, pid, dataDir: o.dataDir, stop };
}

