/**
 * Thousands of mutated real payloads (../shared/fixtures: Alertmanager, Grafana, Slack) against every ingest
 * endpoint, over real HTTP, with ingest, the router and history running as processes on the real broker:
 * no 5xx but 503, no dropped connection, ingest healthy after; then everything ingest accepted is in the
 * history, with the router's decision on it, and nothing is dead-lettered.
 *
 * Seeded: the seed is printed, and FUZZ_SEED=<seed> replays the same requests byte for byte
 * (FUZZ_COUNT changes how many; the default is 3,000).
 */
import { Client } from 'pg';
import { TOPICS } from '@alertbus/schemas';
import { dropTestDatabase } from '../support/db';
import { fuzzRequests, loadCorpus, type FuzzRequest } from '../support/fuzz';
import { readTopic, testKafka } from '../support/kafka';
import { Stack } from '../support/stack';
import { waitFor } from '../support/wait';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const COUNT = process.env.FUZZ_COUNT ? Number(process.env.FUZZ_COUNT) : 3_000;
const SECRET = 'fuzz-signing-secret-8d7c';
const CONCURRENCY = 8;

let stack: Stack;

beforeAll(async () => {
  process.stderr.write(`\n[fuzz] seed ${SEED}, ${COUNT} requests (replay: FUZZ_SEED=${SEED} npx jest test/e2e/fuzz)\n`);
  stack = new Stack({
    SLACK_SIGNING_SECRET: SECRET,
    // The app's own ids given, so ingest needs no Slack API; no sinks run: the pipeline is followed as far as history.
    SLACK_BOT_USER_ID: 'U0FUZZBOT',
    SLACK_BOT_ID: 'B0FUZZBOT',
  });
  await Promise.all((['history', 'router', 'ingest'] as const).map((n) => stack.start(n)));
});

afterAll(async () => {
  await stack?.stopAll();
  await dropTestDatabase();
});

interface Outcome {
  request: FuzzRequest;
  status?: number;
  body?: string;
  error?: string;
}

async function send(base: string, r: FuzzRequest): Promise<Outcome> {
  try {
    const res = await fetch(`${base}${r.endpoint}`, { method: 'POST', headers: r.headers, body: r.body });
    return { request: r, status: res.status, body: await res.text() };
  } catch (err) {
    return { request: r, error: `${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? '')}` };
  }
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.split(' ').pop()) : NaN;
}

test(`${COUNT} mutated real payloads: no 5xx but 503, no dropped connection, and everything accepted reaches the history`, async () => {
  const checkpoint = (what: string) => process.stderr.write(`[fuzz] ${what} at ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const base = stack.url('ingest');
  const requests = fuzzRequests(loadCorpus(), { seed: SEED, count: COUNT, signingSecret: SECRET, now: () => Math.floor(Date.now() / 1000) });
  const outcomes: Outcome[] = [];
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let next = requests.next(); !next.done; next = requests.next()) outcomes.push(await send(base, next.value));
    }),
  );
  expect(outcomes).toHaveLength(COUNT);

  const explain = (o: Outcome) => `#${o.request.index} ${o.request.endpoint} [${o.request.story.join('; ')}] → ${o.status ?? o.error} ${o.body?.slice(0, 300) ?? ''}`;
  const dropped = outcomes.filter((o) => o.error !== undefined);
  const failed = outcomes.filter((o) => o.status !== undefined && o.status >= 500 && o.status !== 503);
  const unavailable = outcomes.filter((o) => o.status === 503).sort((a, b) => a.request.index - b.request.index);
  if (unavailable.length > 0) process.stderr.write(`[fuzz] first 503s: ${unavailable.slice(0, 3).map(explain).join('\n')}\n[ingest] ${stack.output('ingest').slice(-2000)}\n`);
  expect({ seed: SEED, dropped: dropped.map(explain) }).toEqual({ seed: SEED, dropped: [] });
  expect({ seed: SEED, failed: failed.map(explain) }).toEqual({ seed: SEED, failed: [] });

  const byStatus = new Map<number, number>();
  for (const o of outcomes) byStatus.set(o.status!, (byStatus.get(o.status!) ?? 0) + 1);
  process.stderr.write(`[fuzz] seed ${SEED}: answers ${JSON.stringify(Object.fromEntries([...byStatus].sort()))} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  // The mix exercises both sides: many requests accepted, many refused as bad input.
  const acceptedCount = (byStatus.get(202) ?? 0) + (byStatus.get(200) ?? 0);
  expect(acceptedCount).toBeGreaterThan(COUNT / 5);
  expect(byStatus.get(400) ?? 0).toBeGreaterThan(COUNT / 10);

  // Ingest is healthy after it, and its memory is where a small service's should be.
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  // Ready again once its periodic broker probe answers (on a loaded machine a probe may time out during the burst).
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, { what: 'ingest ready after the run', timeoutMs: 30_000 });
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const rss = metric(metrics, 'alertbus_process_resident_memory_bytes');
  process.stderr.write(`[fuzz] ingest resident memory after the run: ${(rss / 2 ** 20).toFixed(0)} MiB\n`);
  expect(rss).toBeLessThan(512 * 2 ** 20);

  // What ingest answered 2xx for is on the topics…
  const kafka = await testKafka('fuzz-check');
  const answeredIds = outcomes
    .filter((o) => o.status === 202 || (o.status === 200 && o.request.endpoint === '/slack/events'))
    .flatMap((o) => (JSON.parse(o.body!) as { ids?: string[] }).ids ?? []);
  const received = [...(await readTopic(kafka, TOPICS.alertsReceived)), ...(await readTopic(kafka, TOPICS.slackReceived))];
  expect(received.filter((r) => !r.event)).toEqual([]); // every record valid against its schema
  const onTopics = new Map(received.map((r) => [r.event!.id, r.event!]));
  expect(answeredIds.filter((id) => !onTopics.has(id))).toEqual([]);
  const alertIds = [...onTopics.values()].filter((e) => e.type === 'AlertReceived').map((e) => e.id);
  expect(alertIds.length).toBeGreaterThan(COUNT / 10);
  expect([...onTopics.values()].some((e) => (e.data as { sanitised?: number }).sanitised)).toBe(true);

  checkpoint('topics read');
  // …and all of it is in the history, each alert with the router's decision on it.
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  try {
    const ids = [...onTopics.keys()];
    await waitFor(
      async () => {
        const { rows } = await db.query('SELECT count(*)::int AS n FROM incident_timeline WHERE event_id = ANY($1)', [ids]);
        return rows[0].n === ids.length;
      },
      { timeoutMs: 180_000, intervalMs: 1_000, what: `all ${ids.length} accepted inputs in the history` },
    );
    checkpoint('inputs projected');
    const undecided = async () => {
      const { rows } = await db.query(
        `SELECT t.event_id, t.alias FROM incident_timeline t WHERE t.event_id = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM incident_timeline d WHERE d.input_id = t.event_id)`,
        [alertIds],
      );
      return rows as Array<{ event_id: string; alias: string }>;
    };
    await waitFor(async () => (await undecided()).length === 0, {
      timeoutMs: 120_000,
      intervalMs: 1_000,
      what: `a decision in the history for each of the ${alertIds.length} alerts`,
    }).catch(async (err: Error) => {
      const missing = (await undecided()).slice(0, 3);
      const around = await db.query('SELECT alias, type, reason, input_id, data FROM incident_timeline WHERE alias = ANY($1)', [missing.map((m) => m.alias)]);
      const dead = (await readTopic(kafka, TOPICS.deadLetter)).map((r) => JSON.stringify(r.event?.data ?? r.value).slice(0, 600));
      throw new Error(
        `${err.message}\nundecided: ${JSON.stringify(missing)}\nin their aliases: ${JSON.stringify(around.rows).slice(0, 3000)}` +
          `\ndead letters: ${dead.join('\n')}\nrouter: ${stack.output('router').slice(-3000)}`,
      );
    });
    const { rows: incidents } = await db.query('SELECT count(*)::int AS n FROM incidents');
    process.stderr.write(
      `[fuzz] history: ${ids.length} inputs, ${alertIds.length} alerts decided, ${incidents[0].n} incidents, ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s after the first request\n`,
    );
    expect(incidents[0].n).toBeGreaterThan(0);
  } finally {
    await db.end();
  }

  // Nothing was set aside, by the router or by history.
  const dead = await readTopic(kafka, TOPICS.deadLetter);
  expect(dead.map((r) => JSON.stringify(r.event?.data ?? r.value).slice(0, 500))).toEqual([]);
}, 600_000);
