/** What the sinks' results (deliveries.v1) look like in the history tables, whichever topic is read first. */
import type { AnyEnvelope } from '@alertbus/schemas';
import { INCIDENT_ID, deliveryFailed, opened, pagerCreated, repeated, resolved, slackPosted } from './testdata/events';
import { given } from './testdata/given';
import { interleavings } from './testdata/interleavings';

describe('delivery events', () => {
  it('the root post ties the incident to its Slack thread, in the channel Slack reports', () => {
    const { store } = given(opened(), slackPosted('root', 0));

    expect(store.incident(INCIDENT_ID)).toMatchObject({
      slackChannel: 'C0123ALERTS',
      slackRootTs: '1740823200.000100',
      updatedAt: '2025-03-01T10:00:01.000Z',
    });
  });

  it('a reply is recorded as a delivery and in the timeline, and leaves the thread alone', () => {
    const { store } = given(opened(), slackPosted('root', 0), slackPosted('reply', 5));

    expect(store.incident(INCIDENT_ID)).toMatchObject({ slackRootTs: '1740823200.000100' });
    expect(store.deliveriesOf(INCIDENT_ID).map((d) => [d.type, d.slackPurpose, d.slackThreadTs])).toEqual([
      ['SlackMessagePosted', 'root', null],
      ['SlackMessagePosted', 'reply', '1740823200.000100'],
    ]);
    expect(store.timelineOf(INCIDENT_ID).map((r) => r.type)).toEqual([
      'IncidentOpened',
      'SlackMessagePosted',
      'SlackMessagePosted',
    ]);
  });

  it('a second root post (a re-post) does not move the thread', () => {
    const { store } = given(opened(), slackPosted('root', 0), slackPosted('root', 1, { ts: '1740823999.000900', channel: 'C999' }));

    expect(store.incident(INCIDENT_ID)).toMatchObject({ slackChannel: 'C0123ALERTS', slackRootTs: '1740823200.000100' });
    expect(store.deliveriesOf(INCIDENT_ID)).toHaveLength(2);
  });

  it('PagerAlertCreated records the pager alert id', () => {
    const { store } = given(opened(), pagerCreated(0));

    expect(store.incident(INCIDENT_ID)).toMatchObject({ pagerAlertId: 'a1b2c3d4-alert', pagerPriority: 'P1' });
    expect(store.deliveriesOf(INCIDENT_ID)).toEqual([
      expect.objectContaining({
        type: 'PagerAlertCreated',
        target: 'pager',
        ok: true,
        pagerProvider: 'opsgenie',
        pagerRequestId: 'req-1',
        pagerAlertId: 'a1b2c3d4-alert',
      }),
    ]);
  });

  it('a dry-run pager alert (no id) is a delivery row and sets no alert id', () => {
    const { store } = given(opened(), pagerCreated(0, null));

    expect(store.incident(INCIDENT_ID)).toMatchObject({ pagerAlertId: null });
    expect(store.deliveriesOf(INCIDENT_ID)).toEqual([expect.objectContaining({ dryRun: true, pagerAlertId: null })]);
  });

  it('DeliveryFailed is a failed delivery with the error and status, on the incident timeline', () => {
    const { store } = given(opened(), deliveryFailed(30));

    expect(store.deliveriesOf(INCIDENT_ID)).toEqual([
      expect.objectContaining({
        type: 'DeliveryFailed',
        target: 'pager',
        ok: false,
        error: 'Opsgenie answered 422: alert does not exist',
        httpStatus: 422,
        permanent: true,
        commandType: 'ClosePagerAlert',
      }),
    ]);
    expect(store.timelineOf(INCIDENT_ID).at(-1)).toMatchObject({ type: 'DeliveryFailed', topic: expect.stringContaining('deliveries.v1') });
    expect(store.incident(INCIDENT_ID)).toMatchObject({ slackRootTs: null, pagerAlertId: null });
  });

  describe('deliveries read before their incident (the two topics are consumed independently)', () => {
    it('the incident, once it arrives, picks up the thread and the pager alert', () => {
      const { store } = given(slackPosted('root', 0), pagerCreated(0), opened());

      expect(store.incident(INCIDENT_ID)).toMatchObject({
        status: 'open',
        slackChannel: 'C0123ALERTS',
        slackRootTs: '1740823200.000100',
        pagerAlertId: 'a1b2c3d4-alert',
      });
      expect(store.timelineOf(INCIDENT_ID).map((r) => r.type)).toEqual([
        'IncidentOpened',
        'SlackMessagePosted',
        'PagerAlertCreated',
      ]);
    });

    it('until then no incident row exists, only the deliveries', () => {
      const { store } = given(slackPosted('root', 0));

      expect(store.incidents.size).toBe(0);
      expect(store.deliveriesOf(INCIDENT_ID)).toHaveLength(1);
    });

    it('every interleaving of the two topics ends in the same incident row', () => {
      const incidents: AnyEnvelope[] = [opened(), repeated(2, 5), resolved(20, 2)];
      const deliveries: AnyEnvelope[] = [slackPosted('root', 0), pagerCreated(0), slackPosted('reply', 5), slackPosted('root', 6, { ts: '1740823999.1' })];
      const rows = interleavings(incidents, deliveries).map((order) => given(...order).store.incident(INCIDENT_ID));

      expect(rows.length).toBe(35);
      for (const row of rows) expect(row).toEqual(rows[0]);
      expect(rows[0]).toMatchObject({
        status: 'resolved',
        count: 2,
        slackChannel: 'C0123ALERTS',
        slackRootTs: '1740823200.000100',
        pagerAlertId: 'a1b2c3d4-alert',
        updatedAt: '2025-03-01T10:20:00.000Z',
      });
    });
  });
});
