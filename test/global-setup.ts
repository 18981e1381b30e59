/**
 * Jest globalSetup: one Kafka broker for the whole run, exported to the tests as KAFKA_BROKERS; and, on a
 * machine with no PostgreSQL on 127.0.0.1:5432 (and no TEST_DATABASE_BASE_URL), an embedded PostgreSQL for
 * the run, exported as TEST_DATABASE_BASE_URL (test/setup-env.ts derives each file's database from it);
 * TEST_EMBEDDED_POSTGRES=1 uses the embedded one even when a server answers.
 *
 * Order: an existing KAFKA_BROKERS (left as is), else a container (when a Docker engine answers),
 * else a local KRaft broker from the Maven jars (see packages/kafka/src/local/broker.ts).
 * Jest copies globalSetup's process.env changes into the test workers; the handle stays on globalThis
 * for test/global-teardown.ts.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedPostgres, freePort, portAnswers, redactUrl, Supervisor } from '@alertbus/launcher';
import { startLocalBroker, type LocalBroker } from '../packages/kafka/src/local/broker';
import { startContainerBroker } from '../packages/kafka/src/local/testcontainers';

export const BROKER_HANDLE_KEY = '__alertbusKafkaBroker';
export const POSTGRES_HANDLE_KEY = '__alertbusEmbeddedPostgres';

type WithHandle = typeof globalThis & {
  [BROKER_HANDLE_KEY]?: LocalBroker;
  [POSTGRES_HANDLE_KEY]?: { supervisor: Supervisor; dir: string };
};

async function embeddedPostgresIfNone(): Promise<void> {
  if (process.env.TEST_DATABASE_BASE_URL) return;
  if (process.env.TEST_EMBEDDED_POSTGRES !== '1' && (await portAnswers('127.0.0.1', 5432))) return;
  const dir = mkdtempSync(join(tmpdir(), 'alertbus-test-postgres-'));
  chmodSync(dir, 0o755); // as root the server runs as the postgres user, which must reach its folder
  const pg = embeddedPostgres({ dataDir: join(dir, 'postgres'), port: await freePort(), database: 'alertbus' });
  const supervisor = new Supervisor();
  (globalThis as WithHandle)[POSTGRES_HANDLE_KEY] = { supervisor, dir };
  await supervisor.start([pg.spec]);
  process.env.TEST_DATABASE_BASE_URL = pg.url;
  process.stderr.write(`\n[postgres] embedded PostgreSQL ${pg.version} for this run at ${redactUrl(pg.url)}\n`);
}

const say = (m: string) => process.stderr.write(`\n[kafka] ${m}\n`);

export default async function globalSetup(): Promise<void> {
  // Idempotent, so it can also be listed per project (e.g. only on the projects that need Kafka):
  // jest then calls it once for each such project that has tests to run, all before any test starts.
  if ((globalThis as WithHandle)[BROKER_HANDLE_KEY]) return;
  await embeddedPostgresIfNone();
  const existing = process.env.KAFKA_BROKERS?.trim();
  if (existing) {
    say(`using KAFKA_BROKERS=${existing} from the environment`);
    return;
  }
  const started = Date.now();
  let kind = 'container confluentinc/cp-kafka:7.9.1';
  let broker = await startContainerBroker();
  if (!broker) {
    kind = 'local KRaft broker (Kafka 3.9.2 jars)';
    // Pass on the slow or unusual steps (jar download, waiting on another fetch, port retry), not routine ones.
    broker = await startLocalBroker({ log: (m) => (/^(fetch|waiting|a port)/.test(m) ? say(m) : undefined) });
  }
  (globalThis as WithHandle)[BROKER_HANDLE_KEY] = broker;
  process.env.KAFKA_BROKERS = broker.brokers.join(',');
  const pid = broker.pid > 0 ? `, pid ${broker.pid}` : '';
  say(`${kind} at ${process.env.KAFKA_BROKERS}${pid}, started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
