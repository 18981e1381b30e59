/** `incidents show` says where Slack and the pager showed an incident, a storm member's summary and page included. */
import { placesLine } from './incidents-places';

const none = { slack_channel: null, slack_target_channel: null, slack_root_ts: null, pager_alert_id: null, pager_priority: null };

test('an incident with its own thread and page', () => {
  expect(placesLine({ ...none, slack_channel: 'C0ALERTS', slack_target_channel: '#alerts', slack_root_ts: '1.2', pager_alert_id: 'a1', pager_priority: 'P1' })).toBe(
    '  slack C0ALERTS thread 1.2, pager a1 P1',
  );
});

test("a storm member: the storm summary it is listed in and the storm's page", () => {
  const member = { ...none, slack_channel: 'C0STORM', slack_target_channel: '#storm', storm_incident_id: 's1', storm_slack_ts: '1740823260.000300', storm_pager_alert_id: 'sa1' };
  expect(placesLine(member)).toBe("  slack #storm (in the storm summary 1740823260.000300), pager: the storm's page sa1");
  expect(placesLine({ ...member, storm_pager_alert_id: null, pager_alert_id: 'own', pager_priority: 'P1' })).toBe(
    '  slack #storm (in the storm summary 1740823260.000300), pager own P1',
  );
});
