/**
 * An incident acknowledged and then unacknowledged in the pager is open again in the history: no acknowledgement
 * kept, the UnAcknowledge in its timeline and audit, and a rebuild from the log gives the same tables.
 */
import type { Kafka } from 'kafkajs';
import { ensureDatabase } from '@alertbus/common';
import { MIGRATIONS_DIR, rebuildProjection } from '@alertbus/projection';
import { acknowledged, ALIAS, INCIDENT_ID, opened, unacknowledged } from '@alertbus/projection/src/testdata/events';
import { dropTestDatabase } from '../../../test/support/db';
import { testBrokers, testKafka } from '../../../test/support/kafka';
import { runCli } from '../../../test/support/cli';
import { waitFor } from '../../../test/support/wait';
import { startHistory, type HistoryService } from './index';
import { produceStream } from './testdata/produce';

let kafka: Kafka;
let service: HistoryService;

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  kafka = await testKafka('history-unacknowledged');
  await produceStream(kafka, [opened(), acknowledged(1, 'alice'), unacknowledged(2, 'night-owl')]);
  service = await startHistory({ brokers: testBrokers(), databaseUrl: process.env.DATABASE_URL!, port: 0, logLevel: 'silent' });
});

afterAll(async () => {
  await service?.close();
  await dropTestDatabase();
});

async function incident(): Promise<Record<string, unknown> & { timeline: Array<{ type: string; data: Record<string, unknown> }> }> {
  const res = await fetch(`${service.url}/api/incidents/${INCIDENT_ID}`);
  expect(res.status).toBe(200);
  return (await res.json()) as never;
}

test('the incident is open again: no acknowledgement kept, the UnAcknowledge in its timeline', async () => {
  await waitFor(async () => (await incident()).timeline.length === 3, { what: 'three events projected', timeoutMs: 60_000 });
  const { timeline, ...row } = await incident();
  expect(row).toMatchObject({ status: 'open', acknowledged_at: null, acknowledged_by: null });
  expect(timeline.map((e) => e.type)).toEqual(['IncidentOpened', 'IncidentAcknowledged', 'IncidentUnacknowledged']);
  expect(timeline[2]!.data).toMatchObject({ by: 'night-owl', provider: 'opsgenie', status: 'open' });
});

test('the audit of the alias says who unacknowledged it, in which pager', async () => {
  const audit = await runCli('audit', ALIAS);
  expect(audit.stdout).toMatch(/IncidentUnacknowledged.*in Opsgenie by night-owl \[unacknowledged\]/);
});

test('a rebuild from the log gives the same tables as the live projection', async () => {
  const result = await rebuildProjection({ databaseUrl: process.env.DATABASE_URL!, kafka, migrationsDir: MIGRATIONS_DIR, swap: false });
  expect(result.matches).toBe(true);
});
