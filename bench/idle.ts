/**
 * `npm run bench:idle`: what the whole stack costs doing nothing, once warm. Starts its own broker (unless
 * KAFKA_BROKERS is set), the five services as `npm start` runs them and the Slack and pager stand-ins, waits
 * BENCH_IDLE_WARMUP_S (default 20) for start-up and JIT warm-up, then reads each process's CPU (/proc) over
 * BENCH_IDLE_S (default 30): ms of CPU per second per service, the broker's and its busiest threads.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SERVICES, serviceDef, startService, type ServiceName, type Supervisor } from '@alertbus/launcher';
import { cpuSeconds } from './cpu';

const root = resolve(__dirname, '..');
const WARMUP_S = Number(process.env.BENCH_IDLE_WARMUP_S ?? 20);
const IDLE_S = Number(process.env.BENCH_IDLE_S ?? 30);

/** CPU seconds of each thread of a process, by thread name (threads of one name summed). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/-?\d+$/, '');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * With REQCOUNT_DIR: the KafkaJS request counts per process that a measurement preload (not part of alertbus) writes
 * there every second, as `<name>-<pid>.json` holding `{ counts: { <api>: n } }`.
 */
function requestCounts(): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  const dir = process.env.REQCOUNT_DIR;
  if (!dir) return out;
  for (const f of readdirSync(dir)) {
    try {
      out.set(f.replace(/\.json$/, ''), (JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as { counts: Record<string, number> }).counts);
    } catch {
      // being written
    }
  }
  return out;
}

async function main(): Promise<void> {
  process.env.KAFKA_TOPIC_PREFIX = `idle${Date.now().toString(36)}.`;
  const dbUrl = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/alertbus');
  dbUrl.pathname = `/${process.env.BENCH_DATABASE ?? 'alertbus_bench'}`;
  process.env.DATABASE_URL = dbUrl.toString();
  const { createKafka, ensureTopics, startLocalBroker } = await import('@alertbus/kafka');
  const { startSlackStandIn, startOpsgenieStandIn } = await import('@alertbus/stand-ins');

  let brokerPid: number | undefined;
  let stopBroker: (() => Promise<void>) | undefined;
  if (!process.env.KAFKA_BROKERS) {
    const broker = await startLocalBroker({});
    process.env.KAFKA_BROKERS = broker.brokers.join(',');
    brokerPid = broker.pid;
    stopBroker = () => broker.stop();
  }
  await ensureTopics(createKafka({ brokers: process.env.KAFKA_BROKERS!.split(','), clientId: 'bench-idle' }));
  const slack = await startSlackStandIn({ tokens: ['xoxb-bench'], channels: [{ id: 'C0ALERTS', name: 'alerts' }] } as never);
  const opsgenie = await startOpsgenieStandIn();
  const env = {
    ...process.env,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_API_URL: slack.url,
    OPSGENIE_API_URL: opsgenie.url,
    OPSGENIE_API_KEY: opsgenie.apiKey,
    INGEST_HOST: '127.0.0.1',
    HISTORY_HOST: '127.0.0.1',
  };
  const stack: Array<{ name: ServiceName; supervisor: Supervisor }> = [];
  try {
    for (const s of await Promise.all(SERVICES.map((def) => startService(serviceDef(def.name as ServiceName), { root, env }).then((r) => ({ name: def.name as ServiceName, supervisor: r.supervisor }))))) {
      stack.push(s);
    }
    await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
    const cpuOf = () => {
      const m = new Map<string, number>();
      for (const s of stack) m.set(s.name, s.supervisor.pids().reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0));
      if (brokerPid !== undefined) m.set('broker', cpuSeconds(brokerPid) ?? 0);
      return m;
    };
    const counts0 = requestCounts();
    const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const before = cpuOf();
    const threadsBefore = brokerPid !== undefined ? threadCpu(brokerPid) : new Map<string, number>();
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const after = cpuOf();
    const threadsAfter = brokerPid !== undefined ? threadCpu(brokerPid) : new Map<string, number>();
    const load1 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const counts1 = requestCounts();
    let total = 0;
    const parts = [...after].map(([name, s]) => {
      const ms = ((s - (before.get(name) ?? 0)) * 1000) / IDLE_S;
      total += ms;
      return `${name} ${ms.toFixed(1)}`;
    });
    console.log(`the stack idle (after ${WARMUP_S} s, over ${IDLE_S} s; load ${load0} → ${load1}): ${total.toFixed(1)} ms/s (${parts.join(' · ')})`);
    if (brokerPid !== undefined) {
      const threads = [...threadsAfter]
        .map(([name, s]) => [name, ((s - (threadsBefore.get(name) ?? 0)) * 1000) / IDLE_S] as const)
        .filter(([, ms]) => ms >= 0.5)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10);
      console.log(`broker threads, ms/s: ${threads.map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(' · ')}`);
    }
    for (const [name, c1] of counts1) {
      const c0 = counts0.get(name) ?? {};
      const rates = Object.entries(c1)
        .map(([api, n]) => [api, (n - (c0[api] ?? 0)) / IDLE_S] as const)
        .filter(([, r]) => r > 0)
        .sort((a, b) => b[1] - a[1]);
      if (rates.length > 0) console.log(`Kafka requests a second, ${name}: ${rates.map(([api, r]) => `${api} ${r.toFixed(2)}`).join(' · ')}`);
    }
  } finally {
    await Promise.all(stack.map((s) => s.supervisor.stop()));
    await slack.close();
    await opsgenie.close();
    await stopBroker?.();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
