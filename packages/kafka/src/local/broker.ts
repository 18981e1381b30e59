/**
 * A real single-node KRaft Apache Kafka 3.9.2 broker for tests and local runs, started from the jars
 * pinned in `kafka/jars.json` and fetched from Maven Central into `kafka/lib/` (see ./jars.ts). No Docker
 * and no Maven needed, only a Java runtime (17+).
 *
 *   const broker = await startLocalBroker();
 *   // broker.brokers -> ['127.0.0.1:41234']
 *   await broker.stop();
 *
 * The broker child is tied to this process: a synchronous 'exit' handler SIGKILLs it, and a tiny
 * `sh` watchdog holding a pipe from this process SIGKILLs it when this process dies in a way that
 * runs no handler (SIGKILL, an unhandled SIGTERM, a crash of the runtime).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafkaJars, kafkaHome } from './jars';
import { run } from './run';

export { ensureKafkaJars, kafkaHome } from './jars';

export interface LocalBroker {
  /** Bootstrap addresses, `host:port`. */
  brokers: string[];
  /** Process id of the broker JVM (-1 when the broker is not a local process, e.g. a container). */
  pid: number;
  /** Folder holding server.properties and the log dirs (removed on stop unless the caller gave it). */
  dataDir: string;
  /** Stops the broker: SIGTERM, then SIGKILL after 15 s. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartLocalBrokerOptions {
  /** Where to keep server.properties and the log dirs; default a fresh temp dir, removed on stop. */
  dataDir?: string;
  /** PLAINTEXT port on 127.0.0.1; default a free port. */
  port?: number;
  /** Progress messages. */
  log?: (m: string) => void;
  /** The `kafka/` folder (jars.json, log4j.properties, lib/); default kafkaHome(). */
  home?: string;
  /** Aborting it while the broker starts stops the broker and rejects with the signal's reason. */
  signal?: AbortSignal;
}

export const KAFKA_VERSION = '3.9.2';
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const TAIL_CHARS = 8_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Free TCP ports on 127.0.0.1, all distinct (the listeners are held open until every port is known). */
async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, never starting with '-'. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka's own generator avoids a leading '-' (looks like a CLI flag)
  }
}

/** The cluster id a formatted log dir already has (from meta.properties), if any. */
async function existingClusterId(logDir: string): Promise<string | undefined> {
  const meta = await fsp.readFile(path.join(logDir, 'meta.properties'), 'utf8').catch(() => '');
  return /^cluster\.id=(\S+)\s*$/m.exec(meta)?.[1];
}

function serverProperties(o: { port: number; controllerPort: number; logDir: string }): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${o.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': o.logDir,
    // One node: internal topics with one partition and one replica.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'group.initial.rebalance.delay.ms': 0,
    'num.partitions': 3,
    'auto.create.topics.enable': false,
    // Small footprint.
    'num.network.threads': 2,
    'num.io.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'background.threads': 2,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 33554432,
    // Test-sized segments; leave flushing to the OS page cache (the default), check retention often.
    'log.segment.bytes': 16 * 1024 * 1024,
    'offsets.topic.segment.bytes': 16 * 1024 * 1024,
    'transaction.state.log.segment.bytes': 16 * 1024 * 1024,
    'log.retention.hours': 24,
    'log.retention.check.interval.ms': 60_000,
    'log.flush.interval.messages': '9223372036854775807',
    'log.flush.interval.ms': '9223372036854775807',
    'log.cleaner.backoff.ms': 1_000,
    'log.initial.task.delay.ms': 0,
    'delete.topic.enable': true,
    'metadata.log.segment.bytes': 8 * 1024 * 1024,
  };
  return (
    '# Written by packages/kafka/src/local/broker.ts: single-node KRaft broker for tests.\n' +
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') +
    '\n'
  );
}

function jvmArgs(home: string): string[] {
  return [
    '-Xms128m',
    '-Xmx512m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${path.join(home, 'log4j.properties')}`,
  ];
}

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
async function probe(brokers: string[]): Promise<void> {
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
    const { brokers: live } = await admin.describeCluster();
    if (live.length === 0) throw new Error('no live brokers yet');
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

class BrokerStartError extends Error {
  constructor(
    message: string,
    readonly portInUse = false,
  ) {
    super(message);
  }
}

interface LaunchOptions {
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
async function launch(o: LaunchOptions): Promise<LocalBroker> {
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
      await probe(brokers);
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

/**
 * Starts a single-node KRaft broker on 127.0.0.1 and resolves once an admin client can describe the
 * cluster. Fetches the jars first if needed. Free ports are picked when `port` is not given (and picked
 * again, up to 3 tries, if another process takes one before the broker binds it).
 */
export async function startLocalBroker(opts: StartLocalBrokerOptions = {}): Promise<LocalBroker> {
  const log = opts.log ?? (() => {});
  const home = opts.home ?? kafkaHome();
  const lib = await ensureKafkaJars({ log, home });
  opts.signal?.throwIfAborted();
  const started = Date.now();

  const ownsDataDir = !opts.dataDir;
  const dataDir = opts.dataDir ? path.resolve(opts.dataDir) : await fsp.mkdtemp(path.join(os.tmpdir(), 'alertbus-kafka-'));
  const cleanupDataDir = async () => {
    if (ownsDataDir) await fsp.rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };

  try {
    await fsp.mkdir(dataDir, { recursive: true });
    for (let attempt = 1; ; attempt++) {
      const [freeA, freeB] = await freePorts(2);
      const port = opts.port ?? freeA;
      const controllerPort = opts.port === freeB ? freeA : freeB;
      try {
        const broker = await launch({
          home,
          lib,
          dataDir,
          port,
          controllerPort,
          removeOnOrphan: ownsDataDir ? dataDir : undefined,
          log,
          signal: opts.signal,
          afterStop: cleanupDataDir,
        });
        const secs = ((Date.now() - started) / 1000).toFixed(1);
        log(`Kafka ${KAFKA_VERSION} broker ready at ${broker.brokers.join(',')} (pid ${broker.pid}) in ${secs} s`);
        return broker;
      } catch (e) {
        const retry = e instanceof BrokerStartError && e.portInUse && opts.port === undefined && attempt < 3;
        if (!retry) throw e;
        log(`a port was taken before the broker could bind it; retrying with new ports`);
      }
    }
  } catch (e) {
    await cleanupDataDir();
    throw e;
  }
}
