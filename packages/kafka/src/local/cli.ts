/**
 * Local Kafka for development:
 *
 *   npx tsx packages/kafka/src/local/cli.ts fetch                 # the pinned broker jars into kafka/lib/ (HTTPS, checksummed)
 *   npx tsx packages/kafka/src/local/cli.ts start [--port N] [--data-dir DIR]
 *   npx tsx packages/kafka/src/local/cli.ts pin                   # after editing kafka/pom.xml: re-pin kafka/jars.json (needs Maven)
 *
 * `start` runs a single-node KRaft broker in the foreground, prints `KAFKA_BROKERS=host:port` on stdout,
 * and stops it on SIGINT/SIGTERM. Progress goes to stderr.
 */
import { ensureKafkaJars, startLocalBroker } from './broker';
import { pinJars } from './jars';

const log = (m: string) => process.stderr.write(`[kafka] ${m}\n`);

function usage(): never {
  process.stderr.write('usage: cli.ts fetch | start [--port N] [--data-dir DIR] | pin\n');
  process.exit(2);
}

function parseStartArgs(args: string[]): { port?: number; dataDir?: string } {
  const out: { port?: number; dataDir?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split('=', 2);
    const value = inline ?? args[++i];
    if (value === undefined) usage();
    if (flag === '--port') {
      const port = Number(value);
      if (!Number.isInteger(port) || port <= 0 || port > 65535) usage();
      out.port = port;
    } else if (flag === '--data-dir') {
      out.dataDir = value;
    } else usage();
  }
  return out;
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'fetch') {
    const started = Date.now();
    const lib = await ensureKafkaJars({ log });
    log(`jars ready in ${lib} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return;
  }
  if (cmd === 'pin') {
    const list = await pinJars({ log });
    log(`pinned ${list.jars.length} jars in kafka/jars.json`);
    return;
  }
  if (cmd !== 'start') usage();

  const broker = await startLocalBroker({ ...parseStartArgs(rest), log });
  process.stdout.write(`KAFKA_BROKERS=${broker.brokers.join(',')}\n`);
  log(`pid ${broker.pid}, data in ${broker.dataDir}; Ctrl-C to stop`);

  let stopping = false;
  // The broker child does not hold the event loop by itself; this timer does, and notices a broker crash.
  const keepAlive = setInterval(() => {
    if (stopping) return;
    try {
      process.kill(broker.pid, 0);
    } catch {
      log(`broker pid ${broker.pid} is gone`);
      void broker.stop().finally(() => process.exit(1));
    }
  }, 2_000);
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    broker.stop().then(
      () => {
        clearInterval(keepAlive);
        process.exit(0);
      },
      (e: unknown) => {
        log(`stop failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((e: unknown) => {
  log((e as Error).stack ?? String(e));
  process.exit(1);
});
