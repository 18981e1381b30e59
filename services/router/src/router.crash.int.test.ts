/**
 * kill -9 of the router, as a child process, at random moments while it works through 1,000 alerts on
 * 200 aliases, restarted each time: afterwards every input is reflected exactly once in what
 * read_committed readers see, byte for byte what the pure decider says.
 */
import { EventProducer, createKafka } from '@alertbus/kafka';
import { GROUPS, ROUTER_STATE_MARKER_KEY, TOPICS, type AliasState, type AnyEnvelope, type Envelope } from '@alertbus/schemas';
import type { Kafka } from 'kafkajs';
import { mulberry32 } from '@alertbus/spec';
import { readTopic, testBrokers, testKafka } from '../../../test/support/kafka';
import { Stack } from '../../../test/support/stack';
import { waitFor } from '../../../test/support/wait';
import { withoutSharedSeen } from '../../../test/support/shared-seen';
import { builtinRules, decide, type AlertState } from '@alertbus/routing';
import { alert, HOUR, MINUTE } from '@alertbus/routing/src/test-support/alerts';

const ALIASES = 200;
const EVENTS = 1_000;
const KILLS = 3;

const seed = Number(process.env.ROUTER_CRASH_SEED ?? Date.now() % 1_000_000);
const random = mulberry32(seed);

/** 1,000 inputs: per alias a firing/resolved mix with growing times, interleaved across aliases at random. */
function makeStream(): Envelope<'AlertReceived'>[] {
  const perAlias: Envelope<'AlertReceived'>[][] = [];
  for (let i = 0; i < ALIASES; i++) {
    const alias = `alertmanager:crash-${String(i).padStart(4, '0')}`;
    const list: Envelope<'AlertReceived'>[] = [];
    let at = 0;
    for (let n = 0; n < EVENTS / ALIASES; n++) {
      // Spread out, so no minute opens more than a few incidents: expected() decides without the other
      // aliases, so the stream must stay below the built-in storm control (30 new incidents a minute).
      at += random() < 0.3 ? 5 * HOUR + Math.ceil(random() * 90) * MINUTE : Math.ceil(random() * 90) * MINUTE;
      const status = random() < 0.65 ? 'firing' : 'resolved';
      list.push(alert(alias, status, { at, n, severity: i % 3 === 0 ? 'critical' : 'warning', labels: { alertname: 'CrashTest', instance: `host-${i}` } }));
    }
    perAlias.push(list);
  }
  const out: Envelope<'AlertReceived'>[] = [];
  const cursors = perAlias.map(() => 0);
  while (out.length < EVENTS) {
    const i = Math.floor(random() * ALIASES);
    if (cursors[i]! < perAlias[i]!.length) out.push(perAlias[i]![cursors[i]!++]!);
  }
  return out;
}

function expected(inputs: Envelope<'AlertReceived'>[]): { events: AnyEnvelope[]; states: Map<string, AlertState> } {
  const rules = builtinRules({ defaultChannel: process.env.SLACK_DEFAULT_CHANNEL ?? '#alerts' });
  const states = new Map<string, AlertState>();
  const events: AnyEnvelope[] = [];
  for (const input of inputs) {
    const d = decide(input, states.get(input.alias), rules);
    states.set(input.alias, d.state);
    events.push(...d.events);
  }
  return { events, states };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let kafka: Kafka;
let producer: EventProducer;
let stack: Stack;

beforeAll(async () => {
  kafka = await testKafka('router-crash');
  producer = new EventProducer(createKafka({ brokers: testBrokers(), clientId: 'router-crash-producer' }));
  await producer.connect();
  // Each transaction is held open 50 ms before its commit, so many kills land inside an open transaction.
  stack = new Stack({ ROUTER_SESSION_TIMEOUT_MS: '6000', ROUTER_INSTANCE_ID: 'crash', ROUTER_CHAOS_COMMIT_DELAY_MS: '50' });
});

afterAll(async () => {
  await stack?.stopAll();
  await producer?.disconnect();
});

async function allInputsCommitted(): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(TOPICS.alertsReceived);
    const [committed] = await admin.fetchOffsets({ groupId: GROUPS.router, topics: [TOPICS.alertsReceived] });
    return ends.every((e) => {
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
      return BigInt(c) >= BigInt(e.high);
    });
  } finally {
    await admin.disconnect();
  }
}

test(`${EVENTS} alerts on ${ALIASES} aliases, ${KILLS} kill -9s: every decision exactly once`, async () => {
  process.stderr.write(`[router crash test] seed ${seed} (ROUTER_CRASH_SEED=${seed} replays it)\n`);
  const inputs = makeStream();
  const want = expected(inputs);

  await stack.start('router');
  // Feed the stream at a steady pace in the background, so kills land while records keep arriving.
  let sent = 0;
  const feeding = (async () => {
    for (let i = 0; i < inputs.length; i += 10) {
      await producer.send(inputs.slice(i, i + 10));
      sent = Math.min(inputs.length, i + 10);
      await sleep(100);
    }
  })();

  for (let k = 0; k < KILLS; k++) {
    // A random moment while it works: after this instance committed a random number of inputs, with more
    // arriving (and, after a restart, a backlog of what came in while it was down).
    const threshold = 1 + Math.floor(random() * (k === 0 ? 250 : 60));
    // An instance that already committed everything sent (all of it, when it keeps up) is killed idle.
    const { n: done } = await waitFor(async () => {
      const n = await inputsCommitted(stack.url('router'));
      if (n >= threshold) return { n };
      return sent === inputs.length && (await allInputsCommitted()) ? { n: await inputsCommitted(stack.url('router')) } : null;
    }, { timeoutMs: 60_000, intervalMs: 5, what: `router instance ${k + 1} to commit ${threshold} inputs` });
    await sleep(Math.floor(random() * 150));
    await stack.kill9('router');
    process.stderr.write(`[router crash test] kill -9 #${k + 1}: instance had committed ${done} inputs; ${sent} sent so far\n`);
    await stack.start('router');
  }
  await feeding;
  await waitFor(allInputsCommitted, { timeoutMs: 60_000, intervalMs: 500, what: 'all inputs committed by the router' });

  const [incidents, slack, pager, dead, state, uncommittedIncidents] = await Promise.all([
    readTopic(kafka, TOPICS.incidents),
    readTopic(kafka, TOPICS.slackCommands),
    readTopic(kafka, TOPICS.pagerCommands),
    readTopic(kafka, TOPICS.deadLetter),
    readTopic(kafka, TOPICS.routerState),
    readUncommittedCount(kafka, TOPICS.incidents),
  ]);
  const got = [...incidents, ...slack, ...pager].map((r) => r.event!);
  expect(got.every(Boolean)).toBe(true);
  process.stderr.write(
    `[router crash test] ${got.length} committed outputs; incidents.v1 holds ${uncommittedIncidents} records read_uncommitted ` +
      `(${uncommittedIncidents - incidents.length} of them from aborted transactions)\n`,
  );

  // No duplicates, nothing missing, nothing different: the outputs are exactly the decider's.
  const ids = got.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
  const sortById = (l: AnyEnvelope[]) => [...l].sort((x, y) => x.id.localeCompare(y.id));
  expect(sortById(withoutSharedSeen(got))).toEqual(sortById(want.events));

  // The same, said the way a user notices it.
  const openings = got.filter((e) => e.type === 'IncidentOpened' || e.type === 'IncidentReopened');
  const perOccurrence = new Set(openings.map((e) => `${e.alias}#${(e.data as { occurrence: number }).occurrence}`));
  expect(perOccurrence.size).toBe(openings.length);
  const roots = got.filter((e) => e.type === 'PostSlackMessage' && (e.data as { purpose: string }).purpose === 'root');
  expect(roots).toHaveLength(openings.length);
  expect(got.filter((e) => e.type === 'CreatePagerAlert')).toHaveLength(openings.length);
  expect(dead).toHaveLength(0);

  // Per alias, the incident events are in input order.
  for (const alias of new Set(inputs.map((i) => i.alias))) {
    const order = incidents.filter((r) => r.key === alias).map((r) => (r.event!.data as { inputId: string }).inputId);
    expect(order).toEqual(inputs.filter((i) => i.alias === alias).map((i) => i.id));
  }

  // The state topic's latest value per alias is the decider's final state.
  const latest = new Map<string, AliasState>();
  for (const r of state) if (r.key && r.key !== ROUTER_STATE_MARKER_KEY && r.value) latest.set(r.key, JSON.parse(r.value) as AliasState);
  for (const [alias, s] of want.states) expect(latest.get(alias)).toEqual(s);
}, 300_000); // three restarts of a service process, each waiting out a session timeout: minutes on a loaded machine

/** alertbus_router_inputs_total of the running instance (it restarts from 0 with each process). */
async function inputsCommitted(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^alertbus_router_inputs_total(?:\{[^}]*\})? (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Records in a topic including those of aborted transactions: shows the kills hit open transactions. */
async function readUncommittedCount(k: Kafka, topic: string): Promise<number> {
  const admin = k.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const want = new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  const consumer = k.consumer({ groupId: `uncommitted-${Math.random().toString(36).slice(2)}`, readUncommitted: true, maxWaitTimeInMs: 100 });
  let count = 0;
  const reached = new Set<number>([...want].filter(([, h]) => h === 0n).map(([p]) => p));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('readUncommittedCount timed out')), 30_000);
    if (reached.size === want.size) {
      clearTimeout(timer);
      resolve();
      return;
    }
    void consumer.run({
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        if (BigInt(batch.lastOffset()) + 1n >= BigInt(batch.highWatermark) - 1n) reached.add(batch.partition);
        if (reached.size === want.size) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return count;
}
