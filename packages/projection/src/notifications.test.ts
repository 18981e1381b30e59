/** What notifications.v1 (and a notification's delivery) look like in the history tables. */
import { makeEnvelope, notificationAlias, type AnyEnvelope, type NotificationRequested } from '@alertbus/schemas';
import { history, replay } from './testdata/projection-spec';

const ID = '0b7f1c3e-5a1d-8e2f-9a4b-1c2d3e4f5a6b';
const at = (s: number) => new Date(Date.UTC(2025, 2, 1, 10, 0, s)).toISOString();
const requested: NotificationRequested = { notificationId: ID, kind: 'tag', tag: 'deploys', level: 'good', title: 'Deploy', text: 'api v1.2.3 is live', requestId: 'r1', authenticatedAs: 'ci' };
const alias = notificationAlias(requested);
const envelope = (type: AnyEnvelope['type'], data: unknown, s: number, source: string): AnyEnvelope =>
  makeEnvelope({ id: `${type}-${ID}`, type, alias, occurredAt: at(s), recordedAt: at(s), source, causationId: null, correlationId: ID, data } as never);

const events = [
  envelope('NotificationRequested', requested, 0, 'ingest/notify'),
  envelope('NotificationRouted', { notificationId: ID, inputId: ID, reason: 'first-notification', rule: { path: 'tags.deploys', rulesVersion: 'v' }, tag: 'deploys', level: 'good', channel: '#deploys', commandId: 'cmd-1' }, 0, 'router'),
  envelope(
    'NotificationPosted',
    { commandId: 'cmd-1', commandType: 'PostNotification', notificationId: ID, dryRun: false, attempts: 1, channel: 'C0DEPLOYS', ts: '1740823202.000100' },
    2,
    'slack-sink',
  ),
];

const expected = {
  notificationId: ID,
  alias: `notify:${ID}`,
  kind: 'tag',
  tag: 'deploys',
  level: 'good',
  title: 'Deploy',
  text: 'api v1.2.3 is live',
  requestedAt: at(0),
  sentBy: 'ci',
  reason: 'first-notification',
  channel: '#deploys',
  commandId: 'cmd-1',
  slackChannel: 'C0DEPLOYS',
  slackTs: '1740823202.000100',
  deliveredAt: at(2),
};

describe('notification events', () => {
  it('request, decision and post fill one row, whatever order the topics are read in', () => {
    const orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]];
    for (const order of orders) {
      const { store } = replay(...order.map((i) => events[i]!));
      expect(store.notifications.get(ID)).toEqual(expected);
      expect(store.incidents.size).toBe(0);
      expect(store.timeline.size).toBe(3);
    }
  });

  it('a redelivered event changes nothing, and a dry-run post leaves the row undelivered', () => {
    const dry = envelope('NotificationPosted', { ...(events[2]!.data as object), dryRun: true, ts: 'dry-run:cmd-1' }, 2, 'slack-sink');
    history
      .given(events[0]!, events[0]!)
      .when({ ...dry, id: 'dry' } as AnyEnvelope)
      .then(({ store }) => expect(store.notifications.get(ID)).toMatchObject({ text: 'api v1.2.3 is live', slackTs: null, deliveredAt: null }));
  });
});
