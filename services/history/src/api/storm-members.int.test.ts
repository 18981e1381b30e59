/**
 * Incidents storm control gathered into a summary, as the API and `alertbus incidents show` give them: found by their
 * channel, with the summary message as their Slack place and the storm's page as their page.
 */
import type { AddressInfo } from 'node:net';
import { createPool, ensureDatabase, inTransaction, loadMigrations, migrate, type Pool } from '@alertbus/common';
import { applyProjections, MIGRATIONS_DIR } from '@alertbus/projection';
import { memberId, projected, stormEvents, STORM_ID, STORM_PAGE, SUMMARY_TS } from '@alertbus/projection/src/testdata/storm';
import { dropTestDatabase } from '../../../../test/support/db';
import { runCli } from '../../../../test/support/cli';
import { buildApp } from '../app';
import { createHistoryMetrics } from '../metrics';

let pool: Pool;
let app: ReturnType<typeof buildApp>;
let url: string;

beforeAll(async () => {
  await ensureDatabase(process.env.DATABASE_URL!);
  pool = createPool(process.env.DATABASE_URL!);
  await migrate(pool, 'history', loadMigrations(MIGRATIONS_DIR));
  await inTransaction(pool, (client) => applyProjections(client, projected(stormEvents())));
  app = buildApp({ pool, registry: createHistoryMetrics().registry, ready: async () => null, now: () => new Date('2025-03-02T00:00:00.000Z'), auth: { tokens: [], readsOpen: true } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await dropTestDatabase();
});

const members = [memberId(2), memberId(3), memberId(8)].sort();

test.each(['%23storm', 'C0STORM'])('?channel=%s finds every storm member', async (channel) => {
  const res = await app.inject({ method: 'GET', url: `/api/incidents?channel=${channel}` });
  expect(res.statusCode).toBe(200);
  expect(res.json().incidents.map((i: { incident_id: string }) => i.incident_id).sort()).toEqual(members);
});

test("a member's Slack place is the storm summary and its page the storm's", async () => {
  const res = await app.inject({ method: 'GET', url: `/api/incidents/${memberId(2)}` });
  expect(res.json()).toMatchObject({ slack_channel: 'C0STORM', slack_target_channel: '#storm', storm_incident_id: STORM_ID, storm_slack_ts: SUMMARY_TS, storm_pager_alert_id: STORM_PAGE });
});

test('incidents show says so, and its timeline names the storm', async () => {
  const shown = await runCli('incidents', 'show', memberId(2), '--url', url);
  expect(shown.stdout).toContain(`slack #storm (in the storm summary ${SUMMARY_TS}), pager: the storm's page ${STORM_PAGE}`);
  expect(shown.stdout).toContain(`gathered into the storm summary ${STORM_ID} in #storm`);
});
