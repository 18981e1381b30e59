import { loadMigrations, migrate, type Pool } from '@alertbus/common';
import { MIGRATIONS_DIR } from '@alertbus/projection';
import { closeTestDatabase, openTestDatabase } from '../test-support/database';

let pool: Pool;

beforeAll(async () => {
  pool = await openTestDatabase();
});

afterAll(() => closeTestDatabase(pool));

const RULE = { path: 'rules[0]', rulesVersion: 'v1' };

/** An incident row and its opening event as the projection wrote them before Slack requests had their channel. */
async function projectedBefore(id: string, data: Record<string, unknown>, root: { channel: string | null; ts: string | null }): Promise<void> {
  await pool.query(
    `INSERT INTO incidents (incident_id, alias, occurrence, title, severity, source, status, opened_at, slack_channel,
       slack_target_channel, slack_root_ts, rule, last_event_at, updated_at)
     VALUES ($1, $2, 1, 't', 'unknown', 'slack', 'open', now(), $3, $3, $4, $5, now(), now())`,
    [id, `alias-${id}`, root.channel, root.ts, RULE],
  );
  await pool.query(
    `INSERT INTO incident_timeline (event_id, incident_id, alias, type, topic, "partition", "offset", occurred_at, recorded_at,
       source, correlation_id, stage, data)
     VALUES ($1, $2, $3, 'IncidentOpened', 'incidents.v1', 0, 0, now(), now(), 'router', $1, 'decided', $4)`,
    [`ev-${id}`, id, `alias-${id}`, data],
  );
}

test('migration 010 gives the Slack requests projected before it their channel and thread, as a replay does, and leaves the rest', async () => {
  const all = loadMigrations(MIGRATIONS_DIR);
  await migrate(pool, 'history', all.filter((m) => m.version < 10));
  await projectedBefore('req', { slackRequest: { channel: 'C0ALERTS', threadTs: '1796535429.701000' } }, { channel: null, ts: null });
  await projectedBefore('alert', { slack: { channel: '#alerts' } }, { channel: 'C0ALERTS', ts: '1796535000.000100' });
  await projectedBefore('quiet', {}, { channel: null, ts: null });

  await migrate(pool, 'history', all);

  const { rows } = await pool.query(
    'SELECT incident_id, slack_channel, slack_target_channel, slack_root_ts FROM incidents ORDER BY incident_id',
  );
  expect(rows).toEqual([
    { incident_id: 'alert', slack_channel: 'C0ALERTS', slack_target_channel: 'C0ALERTS', slack_root_ts: '1796535000.000100' },
    { incident_id: 'quiet', slack_channel: null, slack_target_channel: null, slack_root_ts: null },
    { incident_id: 'req', slack_channel: 'C0ALERTS', slack_target_channel: 'C0ALERTS', slack_root_ts: '1796535429.701000' },
  ]);
});
