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
 *
 * Fetching the jars: ./jars.ts; ports and server.properties: ./configure.ts; the JVM: ./jvm.ts.
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePorts } from './configure';
import { ensureKafkaJars, kafkaHome } from './jars';
import { BrokerStartError, launch } from './jvm';

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
