/**
 * A storm, end to end over HTTP with every service as its own process, routed by a rules file of the team's own
 * that says nothing about storm control (so it is on, at the built-in 30 new incidents a minute): 2,000 unique
 * alerts in Alertmanager groups of 100 are all accepted and all become incidents in the history; Slack gets the
 * first 30 threads and one summary updated in place (for each of its first 100 incidents, then at most once a second), not 2,000 threads; the pager gets the first 30 alerts and one
 * for the storm, noted as it grows, not 2,000 pages; then all of them resolve and the storm's page is closed.
 * Nothing is dead-lettered. The time from the last accepted request to the whole storm in the history is printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TOPICS, type AnyEnvelope } from '@alertbus/schemas';
import { dropTestDatabase } from '../support/db';
import { readTopic, testKafka } from '../support/kafka';
import { postAll, startFullStack, type FullStack } from '../support/stack';
import { waitFor } from '../support/wait';

const ALERTS = Number(process.env.STORM_ALERTS ?? 2_000);
const GROUP = 100;
/** The built-in storm threshold, which a file without storm_control gets. */
const THRESHOLD = 30;

let full: FullStack;
let db: Client;

const fp = (i: number) => `storm${String(i).padStart(11, '0')}`;

/** One Alertmanager webhook of GROUP alerts, as Alertmanager sends a group. */
function group(g: number, status: 'firing' | 'resolved'): string {
  const alerts = Array.from({ length: GROUP }, (_, j) => {
    const i = g * GROUP + j;
    return {
      status,
      labels: { alertname: 'NodeDown', severity: 'warning', instance: `node-${i}`, cluster: 'eu-1' },
      annotations: { summary: `node-${i} is not answering` },
      startsAt: '2026-11-30T08:00:00Z',
      endsAt: status === 'resolved' ? '2026-11-30T09:00:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prom.example/graph',
      fingerprint: fp(i),
    };
  });
  return JSON.stringify({
    version: '4',
    status,
    receiver: 'alertbus',
    groupKey: `{}:{alertname="NodeDown"}/${g}`,
    groupLabels: { alertname: 'NodeDown' },
    commonLabels: { alertname: 'NodeDown', cluster: 'eu-1' },
    commonAnnotations: {},
    externalURL: 'http://am.example',
    alerts,
  });
}

const groups = (status: 'firing' | 'resolved') => Array.from({ length: ALERTS / GROUP }, (_, g) => group(g, status));

async function count(sql: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql);
  return rows[0]!.n;
}

beforeAll(async () => {
  const rules = join(mkdtempSync(join(tmpdir(), 'alertbus-storm-')), 'rules.yaml');
  writeFileSync(rules, 'defaults:\n  slack: { channel: "#alerts" }\n  pager: { priority: P3, tags: [nodes] }\nrules: []\n');
  full = await startFullStack({ ROUTING_RULES: rules });
  db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
}, 600_000); // five services starting at once on busy cores can take minutes

afterAll(async () => {
  await db?.end();
  await full?.stop();
  await dropTestDatabase();
});

test(`a storm of ${ALERTS} unique alerts in groups of ${GROUP}: all in the history, bounded Slack posts and pages, nothing dead-lettered`, async () => {
  const started = Date.now();
  // postAll fails on any answer but 202: every group accepted.
  await postAll(full.stack, '/webhooks/alertmanager', groups('firing'), 4);
  const accepted = Date.now();

  await waitFor(async () => (await count('SELECT count(*)::int AS n FROM incidents')) >= ALERTS, {
    timeoutMs: 600_000,
    intervalMs: 500,
    what: `all ${ALERTS} incidents in the history`,
  });
  const inHistory = Date.now();
  expect(await count("SELECT count(DISTINCT alias)::int AS n FROM incidents WHERE alias LIKE 'alertmanager:storm%'")).toBe(ALERTS);

  // Slack: the threads opened before the storm, then one summary, updated in place for each of its first 100 incidents,
  // then at most once per second of event time (incidents that joined after its last update show with the storm's next
  // change: here, their resolves).
  const roots = () => full.slack.state.messages.filter((m) => !m.thread_ts);
  const summaries = () => roots().filter((m) => m.text.startsWith('[STORM]'));
  const gathered = () => summaries().reduce((n, m) => n + Number(/: (\d+) incidents? gathered/.exec(m.text)?.[1] ?? 0), 0);
  const kafka = await testKafka('storm-check');
  // Every decision is in the history, so every command is on its topic (the router writes both in one transaction).
  const slackCommands = (await readTopic(kafka, TOPICS.slackCommands)).map((r) => r.event!) as AnyEnvelope[];
  const rootsCommanded = slackCommands.filter((e) => e.type === 'PostSlackMessage').length;
  await waitFor(() => roots().length === rootsCommanded, { timeoutMs: 600_000, intervalMs: 500, what: 'every thread and summary posted' });
  expect(roots().length - summaries().length + gathered()).toBeLessThanOrEqual(ALERTS);
  const slackDone = Date.now();
  const own = roots().length - summaries().length;
  expect(own).toBeGreaterThanOrEqual(THRESHOLD);
  expect(summaries().length).toBeGreaterThanOrEqual(1);
  // Bounded: one storm here (every alert came within seconds); a very slow machine could split it, never into many.
  expect(summaries().length).toBeLessThanOrEqual(3);
  expect(roots().length).toBeLessThanOrEqual(100);
  expect(full.slack.state.messages.filter((m) => m.thread_ts)).toEqual([]);

  // Pager: the alerts of the incidents with threads, and one per storm, noted as its count doubled.
  const pagerCommands = (await readTopic(kafka, TOPICS.pagerCommands)).map((r) => r.event!) as AnyEnvelope[];
  const stormCommands = pagerCommands.filter((e) => e.alias.startsWith('storm:'));
  const creates = pagerCommands.filter((e) => e.type === 'CreatePagerAlert');
  expect(creates.length).toBe(own + summaries().length);
  expect(new Set(stormCommands.filter((e) => e.type === 'CreatePagerAlert').map((e) => e.alias)).size).toBe(summaries().length);
  expect(stormCommands.filter((e) => e.type === 'AddPagerNote').length).toBeLessThanOrEqual(Math.ceil(Math.log2(ALERTS)) * summaries().length);
  const stormAlerts = () => full.opsgenie.state.alerts.filter((a) => a.alias.startsWith('storm:'));
  await waitFor(
    () =>
      full.opsgenie.state.calls.filter((c) => (c.route === 'create' || c.route === 'notes') && c.status === 202).length >=
      creates.length + stormCommands.filter((e) => e.type === 'AddPagerNote').length,
    { timeoutMs: 300_000, intervalMs: 500, what: 'the pager calls made' },
  );
  expect(full.opsgenie.state.alerts.length).toBe(creates.length);
  expect(stormAlerts().every((a) => a.status === 'open' && a.tags.includes('alert-storm'))).toBe(true);

  // All resolve: every thread gets its reply, the summaries show them resolved, every page is closed, the storm's too.
  await postAll(full.stack, '/webhooks/alertmanager', groups('resolved'), 4);
  await waitFor(async () => (await count("SELECT count(*)::int AS n FROM incidents WHERE status = 'resolved'")) >= ALERTS, {
    timeoutMs: 600_000,
    intervalMs: 500,
    what: `all ${ALERTS} incidents resolved in the history`,
  });
  await waitFor(() => full.opsgenie.state.alerts.every((a) => a.status === 'closed'), {
    timeoutMs: 300_000,
    intervalMs: 500,
    what: 'every pager alert closed, the storm\'s included',
  });
  expect(stormAlerts().length).toBe(summaries().length);
  // The final state: every incident counted in a thread or a summary, every summary showing none open.
  await waitFor(() => summaries().every((m) => m.text.endsWith('(0 open)')) && roots().length - summaries().length + gathered() === ALERTS, {
    timeoutMs: 300_000,
    intervalMs: 500,
    what: 'every summary counting all its incidents, 0 open',
  });
  expect(full.slack.state.messages.filter((m) => m.thread_ts).length).toBe(own);
  expect(roots().length).toBe(own + summaries().length);

  // Nothing was set aside.
  const dead = await readTopic(kafka, TOPICS.deadLetter);
  expect(dead.map((r) => JSON.stringify(r.event?.data ?? r.value).slice(0, 500))).toEqual([]);

  process.stderr.write(
    `[storm] ${ALERTS} alerts in ${ALERTS / GROUP} groups: accepted in ${((accepted - started) / 1000).toFixed(1)} s; ` +
      `all in the history ${((inHistory - accepted) / 1000).toFixed(1)} s after the last was accepted; ` +
      `every thread and summary posted in Slack ${((slackDone - accepted) / 1000).toFixed(1)} s after; ` +
      `Slack posts ${own} threads + ${summaries().length} summary (${summaries().reduce((n, m) => n + m.updates, 0)} updates in place); ` +
      `pager alerts ${full.opsgenie.state.alerts.length} (${stormAlerts().length} for the storm, ${stormAlerts().reduce((n, a) => n + a.notes.length, 0)} notes)\n`,
  );
}, 1_800_000);
