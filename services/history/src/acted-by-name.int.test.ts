/**
 * Who acknowledged and who resolved an incident, by name beside the id, through the history: acknowledged from a Slack
 * click whose payload carried user.name (the router's IncidentAcknowledged: by = the Slack user id, byName = the name),
 * closed in Opsgenie by a user the webhook named by username (IncidentResolved: by = byName = the username, provider
 * opsgenie, so acknowledged_in is null and resolved_in says opsgenie: its id is no Slack user's). The API,
 * `alertbus incidents` and a rebuild from the log give them (rows projected before migration 014: projection/apply.int.test.ts).
 */
import type { Kafka } from 'kafkajs';
import { ensureDatabase } from '@alertbus/common';
import { MIGRATIONS_DIR, rebuildProjection } from '@alertbus/projection';
import { acknowledged, ALIAS, INCIDENT_ID, opened, resolved } from '@alertbus/projection/src/testdata/events';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { runCli } from '../../../test/support/cli';
import { waitFor } from '../../../test/support/wait';
import { startHistory, type HistoryService } from './index';
import { produceStream } from './testdata/produce';

const SLACK_ID = 'U012ABCDEF';
const SLACK_NAME = 'Alice <Example>';
const PAGER_USER = 'jane.doe@example.com';

let kafka: Kafka;
let service: HistoryService;

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-acted-by-name');
  await produceStream(kafka, [opened(), acknowledged(1, SLACK_ID, SLACK_NAME), resolved(20, 1, { by: PAGER_USER, byName: PAGER_USER, provider: 'opsgenie' })]);
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
  await waitFor(async () => Number((await service.pool.query('SELECT count(*) FROM incident_timeline')).rows[0].count) === 3, {
    what: 'three events projected',
    timeoutMs: 60_000,
  });
});

afterAll(async () => {
  await service?.close();
  await dropTestDatabase();
});

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${service.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

const WHO = { acknowledged_by: SLACK_ID, acknowledged_by_name: SLACK_NAME, acknowledged_in: null, resolved_by: PAGER_USER, resolved_by_name: PAGER_USER, resolved_in: 'opsgenie' };

test('the API gives who acknowledged and who resolved by id and by name, and the pager each was in, in the list and for one incident', async () => {
  const one = await get<Record<string, unknown>>(`/api/incidents/${INCIDENT_ID}`);
  expect(one).toMatchObject({ status: 'resolved', ...WHO });
  const list = await get<{ incidents: Array<Record<string, unknown>> }>(`/api/incidents?alias=${encodeURIComponent(ALIAS)}`);
  expect(list.incidents).toEqual([expect.objectContaining(WHO)]);
});

test('`alertbus incidents` prints the name; `show` the name with the id', async () => {
  const table = await runCli('incidents', '--url', service.url);
  expect(table.exitCode).toBe(0);
  expect(table.stdout).toContain(SLACK_NAME);
  expect(table.stdout).not.toContain(SLACK_ID);
  const show = await runCli('incidents', 'show', INCIDENT_ID, '--url', service.url);
  expect(show.stdout).toMatch(new RegExp(`acknowledged \\S+ by Alice <Example> \\(${SLACK_ID}\\)`));
  expect(show.stdout).toMatch(/^ {2}resolved \S+ by jane\.doe@example\.com$/m);
});

test('a rebuild from the log gives the same rows, names included', async () => {
  const result = await rebuildProjection({ databaseUrl: process.env.DATABASE_URL!, kafka, migrationsDir: MIGRATIONS_DIR, swap: false });
  expect(result.matches).toBe(true);
});
