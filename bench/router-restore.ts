/**
 * How long a router takes to restore its partitions' state before its first decision there — what an instance
 * that joins, or takes over a dead one's partitions, waits. Fills router.state.v1 (a topic prefix of its own)
 * with N open incidents, one per alias, as the decider writes them, spread over the 6 partitions; then starts a
 * router (from the launcher's table, as `npm start` does) that is assigned all of them and reads the restore time
 * from its own metric (alertbus_router_state_restore_seconds), and reports it per 100k aliases.
 *
 *   npm run bench:router-restore            (BENCH_RESTORE_ALIASES, default 100000; KAFKA_BROKERS, else a local broker)
 */
import { join, resolve } from 'node:path';
import { freePort, serviceDef, startService, type Supervisor } from '@alertbus/launcher';
import type { CompiledRules, RouterState } from '@alertbus/routing';

const root = resolve(__dirname, '..');
const ALIASES = Number(process.env.BENCH_RESTORE_ALIASES ?? 100_000);
const PARTITIONS = 6;
const BATCH = 2_000;

type Routing = typeof import('@alertbus/routing') & typeof import('@alertbus/routing/src/test-support/alerts');

/** The state the router keeps for alias i after its first firing alert (what it writes to router.state.v1). */
function openIncident(i: number, rules: CompiledRules, { alert, decide }: Routing): RouterState {
  const e = alert(`alertmanager:restore${i.toString(16).padStart(12, '0')}`, 'firing', {
    at: i,
    title: `Disk almost full on host-${i}`,
    severity: 'warning',
    labels: { alertname: 'DiskFull', instance: `host-${i}:9100`, job: 'node', severity: 'warning', team: 'storage' },
    raw: { fingerprint: `restore${i}` },
  });
  const { state } = decide(e, undefined, rules, {});
  if (!state) throw new Error('the decider kept no state for a firing alert');
  return state;
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in the router's metrics`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const tag = `benchrestore${Date.now().toString(36)}.`;
  process.env.KAFKA_TOPIC_PREFIX = tag;
  // Imported after the prefix is set: topic names are fixed when the schemas module loads.
  const { createKafka, ensureTopics, startLocalBroker, TOPICS, HEADERS } = await import('@alertbus/kafka');
  const { createLogger } = await import('@alertbus/common');
  const routing: Routing = { ...(await import('@alertbus/routing')), ...(await import('@alertbus/routing/src/test-support/alerts')) };

  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({ dataDir: join(root, '.alertbus', 'bench-kafka') });
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    stopBroker = () => broker.stop();
  }
  const kafka = createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-restore', log: createLogger('bench', 'warn') });
  await ensureTopics(kafka);
  let router: Supervisor | undefined;
  try {
    console.log(`\n## router restore with ${ALIASES.toLocaleString('en')} aliases in ${TOPICS.routerState} (${PARTITIONS} partitions)`);
    const rules = routing.builtinRules({ defaultChannel: '#alerts' });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let bytes = 0;
    const fillStarted = Date.now();
    for (let from = 0; from < ALIASES; from += BATCH) {
      const messages = [];
      for (let i = from; i < Math.min(ALIASES, from + BATCH); i++) {
        const state = openIncident(i, rules, routing);
        const value = JSON.stringify(state);
        bytes += value.length;
        messages.push({ partition: i % PARTITIONS, key: routing.stateKey(state), value, headers: { [HEADERS.eventType]: 'AliasState' } });
      }
      await producer.send({ topic: TOPICS.routerState, acks: -1, messages });
    }
    await producer.disconnect();
    console.log(`filled                 : ${(bytes / 1e6).toFixed(1)} MB of state in ${((Date.now() - fillStarted) / 1000).toFixed(1)} s`);

    const started = Date.now();
    const lines: string[] = [];
    const { supervisor, port } = await startService(serviceDef('router'), {
      root,
      port: await freePort(),
      env: { ...process.env, LOG_LEVEL: 'warn' },
      supervisor: { readyTimeoutMs: 600_000, output: (_n, line) => lines.push(line) },
    });
    router = supervisor;
    const readyMs = Date.now() - started;
    const url = `http://127.0.0.1:${port}`;
    const restoreS = await metric(url, 'alertbus_router_state_restore_seconds_sum');
    const held = await metric(url, 'alertbus_router_aliases');
    if (held !== ALIASES) throw new Error(`the router holds ${held} aliases, not ${ALIASES}; its log ends:\n${lines.slice(-10).join('\n')}`);
    console.log(`restored               : ${held.toLocaleString('en')} aliases in ${restoreS.toFixed(2)} s (process start to /readyz: ${(readyMs / 1000).toFixed(1)} s)`);
    console.log(`restore per 100k       : ${((restoreS * 100_000) / ALIASES).toFixed(2)} s`);
  } finally {
    await router?.stop();
    const admin = kafka.admin();
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(tag));
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    if (stopBroker) await stopBroker();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
