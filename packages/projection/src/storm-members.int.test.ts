/**
 * An incident storm control gathers into a summary records what Slack and the pager did for it: the storm's channel,
 * the summary message and (when it pages through it) the storm's page, whichever of its events and the storm's
 * deliveries is read first, one event at a time and in a batch alike.
 */
import { applyProjection } from './apply';
import { applyProjections } from './apply-many';
import { MemoryStore } from './memory-store';
import { historyDatabase } from './testdata/database';
import type { AnyEnvelope } from '@alertbus/schemas';
import { member, memberId, projected, stormDeliveries, STORM_ID, STORM_PAGE, STORM_SINCE, SUMMARY_TS } from './testdata/storm';

const db = historyDatabase();

beforeEach(() => db.pool.query('TRUNCATE incidents, incident_timeline, deliveries'));

const members = () =>
  db.pool
    .query(
      `SELECT incident_id, slack_channel, slack_target_channel, slack_root_ts, storm_incident_id, storm_slack_ts, storm_pager_alert_id, pager_alert_id
         FROM incidents ORDER BY incident_id`,
    )
    .then((r) => r.rows);

const expected = () =>
  [
    { id: memberId(2), page: STORM_PAGE },
    { id: memberId(3), page: null },
    { id: memberId(8), page: STORM_PAGE },
  ]
    .map(({ id, page }) => ({
      incident_id: id,
      slack_channel: 'C0STORM',
      slack_target_channel: '#storm',
      slack_root_ts: null,
      storm_incident_id: STORM_ID,
      storm_slack_ts: SUMMARY_TS,
      storm_pager_alert_id: page,
      pager_alert_id: null,
    }))
    .sort((a, b) => a.incident_id.localeCompare(b.incident_id));

const incidentsFirst = () => [...member(2, true), ...member(3, false), ...member(8, true), ...stormDeliveries()];
const deliveriesFirst = () => [...stormDeliveries(), ...member(2, true), ...member(3, false), ...member(8, true)];
const between = () => [...member(2, true), ...stormDeliveries(), ...member(3, false), ...member(8, true)];

describe.each([
  ['members, then the storm deliveries', incidentsFirst],
  ['the storm deliveries, then members', deliveriesFirst],
  ['a member, the deliveries, the other members', between],
])('%s', (_name, events) => {
  test('one event at a time', async () => {
    const client = await db.pool.connect();
    try {
      for (const p of projected(events())) await applyProjection(client, p);
    } finally {
      client.release();
    }
    expect(await members()).toEqual(expected());
  });

  test('in one batch', async () => {
    const client = await db.pool.connect();
    try {
      await applyProjections(client, projected(events()));
    } finally {
      client.release();
    }
    expect(await members()).toEqual(expected());
  });

  test('the in-memory store (the specification) holds the same', () => {
    const store = new MemoryStore();
    for (const p of projected(events())) store.apply(p);
    const rows = [...store.incidents.values()]
      .map((r) => ({
        incident_id: r.incidentId, slack_channel: r.slackChannel, slack_target_channel: r.slackTargetChannel, slack_root_ts: r.slackRootTs,
        storm_incident_id: r.stormIncidentId, storm_slack_ts: r.stormSlackTs, storm_pager_alert_id: r.stormPagerAlertId, pager_alert_id: r.pagerAlertId,
      }))
      .sort((a, b) => a.incident_id.localeCompare(b.incident_id));
    expect(rows).toEqual(expected());
  });
});

test('a member of a storm whose summary is not posted yet is in the storm channel, with no summary or page yet', async () => {
  const client = await db.pool.connect();
  try {
    await applyProjections(client, projected(member(2, true)));
  } finally {
    client.release();
  }
  expect(await members()).toEqual([
    { incident_id: memberId(2), slack_channel: '#storm', slack_target_channel: '#storm', slack_root_ts: null, storm_incident_id: STORM_ID, storm_slack_ts: null, storm_pager_alert_id: null, pager_alert_id: null },
  ]);
});

test('members joined in one batch give the rows one event at a time gives, every column, a member suppressed twice keeping its first storm', async () => {
  // Member n2 suppressed again, into a later storm in another channel (a replayed or raced decision): the first stays.
  const [, firstJoin] = member(2, true);
  const again = {
    ...firstJoin!,
    id: 'suppressed-again-n2',
    data: { ...(firstJoin!.data as object), suppressedBy: { kind: 'storm', channel: '#other', summaryIncidentId: 'storm-other', since: STORM_SINCE, threshold: 5, window: '1m', recent: 5 } },
  } as AnyEnvelope;
  const events = [...member(2, true), again, ...member(3, false), ...stormDeliveries(), ...member(8, true)];
  const rows = () => db.pool.query('SELECT * FROM incidents ORDER BY incident_id').then((r) => r.rows);
  const client = await db.pool.connect();
  try {
    for (const p of projected(events)) await applyProjection(client, p);
    const oneByOne = await rows();
    await db.pool.query('TRUNCATE incidents, incident_timeline, deliveries');
    await applyProjections(client, projected(events));
    expect(await rows()).toEqual(oneByOne);
  } finally {
    client.release();
  }
  expect(await members()).toEqual(expected());
});
