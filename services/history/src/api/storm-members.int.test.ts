/**
 * Incidents storm control gathered into a summary, as the API and `alertbus incidents show` give them: found by their
 * channel, with the summary message as their Slack place and the storm's page as their page.
 */
import { inTransaction, type Pool } from '@alertbus/common';
import { applyProjections } from '@alertbus/projection';
import { memberId, projected, stormEvents, STORM_ALIAS, STORM_ID, STORM_PAGE, SUMMARY_TS } from '@alertbus/projection/src/testdata/storm';
import { runCli } from '../../../../test/support/cli';
import { startTestHistoryApp, stopTestHistoryApp, type TestHistoryApp } from '../test-support/history-app';

let pool: Pool;
let app: TestHistoryApp['app'];
let url: string;

beforeAll(async () => {
  ({ pool, app, url } = await startTestHistoryApp(new Date('2025-03-02T00:00:00.000Z'), (p) => inTransaction(p, (client) => applyProjections(client, projected(stormEvents())))));
});

afterAll(() => stopTestHistoryApp({ app, pool }));

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
  expect(shown.stdout).toContain(`gathered into the storm summary in #storm (alias ${STORM_ALIAS};`);
  // The alias it names leads to the summary's own timeline: its post and its page.
  const timeline = await app.inject({ method: 'GET', url: `/api/timeline?alias=${encodeURIComponent(STORM_ALIAS)}` });
  expect(timeline.json().events.length).toBeGreaterThan(0);
});
